"""bench/RESULTS.md from the benches' figures (.local-state/bench/*.json): every figure next to how it
was measured. Used by bench/run.py."""

from __future__ import annotations

from typing import Any

from bench.costs import PerMessage, cost_lines, load_prices

GOALS = {"wu": "≤ 5.5", "ru": "≤ 3", "sqs": "≤ 0.5 (outbox + events)", "usd": "≤ $3.00"}


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _pm_column(pm: PerMessage, prices: dict[str, Any]) -> list[str]:
    sqs = pm.sqs
    parts = ", ".join(f"{q} {sqs.get(q, 0):.2f}" for q in ("outbox", "events", "campaigns"))
    return [
        f"{pm.all_write_units:.1f} ({pm.gsi_write_units:.1f} GSI)",
        f"{pm.read_units:.1f}",
        f"{pm.sqs_requests:.2f} ({parts})",
        f"{pm.lambda_gb_seconds:.4f} ({sum(pm.invocations.values()):.2f} invocations)",
        f"${sum(cost_lines(pm, prices).values()):.2f}",
    ]


def cost_section(delivery: dict[str, Any]) -> str:
    prices = load_prices()
    runs = delivery["runs"]
    baseline = delivery.get("baseline") or {}
    header = ["per campaign message, creation to READ"]
    columns = []
    for run in runs:
        header.append(f"audience by {run['audience']} ({run['messages']})")
        columns.append(_pm_column(PerMessage.from_dict(run["per_message"]), prices))
    for audience, figures in baseline.items():
        header.append(f"naive baseline, by {audience}")
        columns.append(_pm_column(PerMessage.from_dict(figures), prices))
    header.append("goal")
    columns.append([GOALS["wu"], GOALS["ru"], GOALS["sqs"], "", GOALS["usd"]])
    names = ["DynamoDB write units", "DynamoDB read units", "SQS requests", "Lambda GB-s", "AWS cost / 1M messages"]
    out = _table(header, [[name, *(c[i] for c in columns)] for i, name in enumerate(names)])
    for run in runs:
        total = sum(run["cost"].values())
        base = baseline.get(run["audience"])
        if base is not None:
            ratio = sum(cost_lines(PerMessage.from_dict(base), prices).values()) / total
            out += f"\nNaive baseline / this run, audience by {run['audience']}: **{ratio:.2f}x** (goal ≥ 1.5x)."
    out += "\n\nThe bill per 1,000,000 messages, line by line (USD):\n\n"
    lines = list(runs[0]["cost"])
    out += _table(["line", *(f"by {r['audience']}" for r in runs)],
                  [[line, *(f"{r['cost'][line]:.2f}" for r in runs)] for line in lines])  # fmt: skip
    fixed = delivery["fixed"]
    out += (
        f"\nAlways on, not per message: the session host's Fargate task ({fixed['tasks']} × {fixed['vcpu']:g} vCPU, "
        f"{fixed['memory_gb']:g} GB, arm64) **${fixed['fargate_usd']:.2f} a month**; its PutMetricData requests "
        f"({fixed['put_metric_data_calls']:.0f} in the {fixed['host_minutes']:.1f} minutes the stack ran, "
        f"{fixed['put_metric_data_per_minute']:.1f} a minute) **${fixed['put_metric_data_usd']:.2f} a month**. "
        "Neither is in the per-message figures.\n"
    )
    return out


def biggest_section(delivery: dict[str, Any]) -> str:
    out = ""
    for run in delivery["runs"]:
        out += f"\nAudience by {run['audience']}, per message:\n\n"
        rows = []
        for deployable, items in run["biggest"].items():
            for r in items:
                units = f"{r['wu']:.2f} + {r['wu_gsi']:.2f} GSI" if r["wu"] or r["wu_gsi"] else ""
                rows.append([deployable, r["call"], r["site"], f"{r['calls']:.2f}", f"{r['items']:.2f}", units,
                             f"{r['ru']:.2f}" if r["ru"] else "", f"{r['usd_per_million']:.2f}"])  # fmt: skip
        out += _table(["deployable", "call", "where", "calls", "items", "write units", "read units", "$ / 1M"], rows)
        sizes = run["item_sizes"]
        out += "\nItems as written in this campaign (bytes, DynamoDB's size rules): " + ", ".join(
            f"{k} avg {v['avg']:.0f}, max {v['max']:.0f}" for k, v in sorted(sizes.items())
        )
        empty = PerMessage.from_dict(run["per_message"]).sqs_empty
        out += (
            ". Empty receives (not priced): " + ", ".join(f"{q} {v:.2f}" for q, v in empty.items()) + " per message.\n"
        )
    return out


def calls_section(run: dict[str, Any]) -> str:
    rows = []
    for c in run["calls"]:
        units = [f"{c['wu']:.2f}" if c["wu"] else "", f"{c['wu_gsi']:.2f}" if c["wu_gsi"] else ""]
        units.append(f"{c['ru']:.2f}" if c["ru"] else "")
        sqs = f"{c['billable']:.2f}" if c["service"] == "sqs" else ""
        if c["operation"] == "ReceiveMessage(empty)":
            sqs += " (idle: not priced)"
        ms = f"{c['ms'] / max(c['calls'], 1e-9):.0f} ms each" if c["service"] == "lambda" else ""
        rows.append([c["deployable"], f"{c['service']} {c['operation']}", c["target"], f"{c['calls']:.3f}", *units,
                     sqs, ms])  # fmt: skip
    header = ["deployable", "call", "target", "calls", "write units", "GSI write units", "read units", "SQS billed",
              "duration"]  # fmt: skip
    return (
        f"\n<details><summary>Every AWS call per message, audience by {run['audience']}</summary>\n\n"
        + _table(header, rows)
        + "\n</details>\n"
    )


def latency_section(latency: dict[str, Any]) -> str:
    iso, burst = latency["isolated"], latency["burst"]
    return _table(
        ["enqueue → SENT, zero pacing", "messages", "p50", "p99", "notes"],
        [
            ["isolated (one at a time)", iso["n"], f"{iso['p50_ms']:.0f} ms", f"{iso['p99_ms']:.0f} ms", ""],
            [
                "burst on one sender",
                burst["n"],
                f"{burst['p50_ms']:.0f} ms",
                f"{burst['p99_ms']:.0f} ms",
                f"enqueued in {burst['enqueued_in_s']:.1f} s; sent at {burst['sent_per_s']:.1f} messages/s",
            ],  # fmt: skip
        ],
    )


def dispatcher_section(d: dict[str, Any]) -> str:
    rows = [
        [f"{p['contacts']:,}", p["jobs"], f"{p['contacts_per_s']:.0f}", f"{p['peak_rss_mb']:.0f} MB"]
        for p in d["checkpoints"]
    ]
    out = _table(["contacts dispatched", "jobs", "contacts/s", "peak RSS"], rows)
    out += (
        f"\nSlope of the peak RSS: **{d['rss_slope_mb_per_10k']:+.2f} MB per 10,000 contacts**; "
        f"{d['rss_after_import_mb']:.0f} MB after importing the handler module "
        f"({d['import_seconds']:.1f} s). The handler worked {d['handler_seconds']:.0f} s of which "
        f"{d['cpu_seconds']:.0f} s on the CPU (the rest waiting on moto: one PutItem per message, ~3.7 ms each "
        "on moto; `bench/bench_dispatcher.py 100000` runs the 100,000 checkpoint too, in about 7 minutes).\n"
    )
    return out


def cold_start_section(c: dict[str, Any]) -> str:
    rows = []
    for f in c["functions"]:
        top = "; ".join(
            f"{b['name']} {b['ms']:.0f} ms" + (f" (in {b['parent']})" if b.get("parent") else "") for b in f["biggest"]
        )
        rows.append([f["function"], f"{f['median_ms']:.0f} ms", f"{f['min_ms']:.0f}–{f['max_ms']:.0f} ms", top])
    out = _table(["function", "import, median of " + str(c["functions"][0]["runs"]), "range", "three biggest imports"],
                 rows)  # fmt: skip
    return out + f"\nA bare {c['python']} starts in {c['bare_interpreter_ms']:.0f} ms (not included above).\n"


def sessions_section(s: dict[str, Any]) -> str:
    rows = []
    for kind, r in s.items():
        objects = r.get("python_objects_per_session_kb")
        rows.append(
            [
                kind,
                r["sessions"],
                f"{r['per_session_kb']:.1f} KB",
                "" if objects is None else f"{objects:.2f} KB",
                f"{r['first_session_mb']:.1f} MB",
                f"{r['rss_after_mb']:.0f} MB",
            ]
        )
    header = ["session", "opened", "RSS per session", "Python objects per session", "first session", "RSS after all"]
    return _table(header, rows)


METHODS = """
## How each figure is measured

**Cost per message** (bench/bench_delivery.py). The local stack runs as `make run` runs it (moto in a
process of its own, each deployable in its own process, environment and IAM role from template.yaml) with
`StackConfig(meter=True)`: local/meter.py installs, in every deployable's process, a botocore
`before-parameter-build` and `after-call` handler (botocore's BUILTIN_HANDLERS, like the IAM guard), so
every call of every boto3 and PynamoDB client is counted, per deployable, operation, target and call site,
into `.local-state/wacast-bench-cost/meter-<Deployable>.json`. Requests are never changed. A user registers
over HTTP, sets the sender's pacing to zero (PATCH /api/senders/{id}), imports the contacts, and runs a
2-contact warm-up campaign so every function is warm. Then each measured campaign (zero pacing; simulated
driver: 0 ms send latency, delivered and read receipts 0.2–0.5 s after the send) is counted from just
before POST /api/campaigns until every message is READ and the outbox, events and campaigns queues are
empty, and divided by its messages. The bench's own stats polls carry an `x-bench-probe` header: the API's
calls while serving them are kept apart and not counted.

**DynamoDB units** (local/dynamo_units.py). What moto reports as ConsumedCapacity, checked per operation
(moto {moto}, an item of 5–8 KB): PutItem 1.0, DeleteItem 1.0, GetItem 0.5, Query 1.0 and TransactGetItems
2 per item only when the request asks for it; UpdateItem 0.5, BatchWriteItem 1.0 per table and BatchGetItem 1
per key whether asked or not; TransactWriteItems never (an empty list). All are constants, whatever the item
(DynamoDB bills that PutItem 8 units), so none is used: wacast's requests do not ask, the meter does not
add it, and every unit here is computed from the items, with DynamoDB's rules: item size = attribute names
+ values (strings UTF-8, numbers 1 byte per 2 significant digits + 1, lists and maps 3 bytes + 1 per
element); a write costs 1 unit per started KB of the larger of
the item before and after, twice inside TransactWriteItems (ConditionCheck too), as much when its
condition fails; each GSI of template.yaml's table (three, projection ALL) costs the entry's size when it
appears or changes, its old size when it goes, a delete and a put when its key changes (as `gsi1sk` does on
every status change), nothing when unchanged, and is not doubled by a transaction; a read costs 1 unit per
started 4 KB of the whole item (a projection does not make it cheaper), half when eventually consistent
(always on a GSI), twice in TransactGetItems, at least one even when the item does not exist; a Query adds
every item it evaluated before its filter and rounds once per page. To know the items, the meter reads
them just before each write and, for an update, just after, with its own client (made before any hook:
neither guarded nor metered, strongly consistent). Estimates: a concurrent write between that read and
the call shifts a few bytes (the campaign counters item, written by the host and the events function);
the order of the rules for an index entry that changes without a key change (larger of old and new) is
our reading of GSI.html.

**SQS requests**: every call, per queue and operation; a batch of up to 10 is one request, and each
started 64 KB of payload one more, as SQS bills. The local pollers' receives and deletes are counted: on
AWS, Lambda's event-source mappings make them and they are billed. Receives that found nothing depend on
idle time, not on messages (the local long polls wait 1 s; AWS's pollers and the host wait 20 s): they are
reported apart and not priced.

**Lambda**: one invocation per handler call (the pollers playing the event-source mappings) and per HTTP
request (the API, one Lambda invocation behind API Gateway each), its duration rounded up to the ms, at the
template's MemorySize (ApiFunction 1024 MB, the others 512 MB), arm64 price. The meter's own item reads are
taken out of the duration. These are this x86_64 machine's durations against moto, not arm64 Lambda's
against DynamoDB; cold starts are outside the window (warm-up), as are Lambda's platform log lines.

**CloudWatch Logs**: the bytes each deployable wrote to its log (`.local-state/<stack>/<Deployable>.log`:
Powertools' JSON logs and EMF metric lines) during the window, at the ingestion price.

**Prices**: bench/prices.json, us-east-1 on-demand list prices, each with the page it is published on; no
free tier is deducted.

**Naive baseline**: the issue names today's design a fair naive baseline (one SQS request per message, one
transaction per state change with the counters on the campaign item). It is kept as a copy of today's
per-message figures, measured by this same bench (`bench/bench_delivery.py --save-baseline`, commit and
date in bench/baseline.json: units, requests, GB-s and log bytes per message, per audience), because
today's code will not exist in the run that measures the cheaper one. Each run prices the copy with the
same prices.json and prints the ratio; the copy's units are not re-measured, so a change to the meter's
rules needs the baseline recorded again on the baseline commit.

**Latency** (bench/bench_delivery.py): a second local stack without the meter (its item reads would slow
the path). Messages are queued with POST /api/messages/queue, one at a time (the next once the last is
SENT), then a burst from 8 threads; enqueue → SENT is the message's own `SENT` history time minus its
`createdAt`, both stamped by the product.

**Dispatcher** (bench/bench_dispatcher.py): moto in the bench's process, the contacts put straight into its
table as copies of a sample contact imported over the API (so they are the product's own items), one
campaign by tag started over the API, then the dispatcher function alone in a fresh process
(bench/dispatcher_worker.py, DispatcherFunction's environment) calling its real handler for each job of
the campaigns queue, as a warm Lambda container would, until none is left. contacts/s = contacts dispatched
(outbox messages sent) / handler time. Peak RSS is the process's VmHWM: getrusage's ru_maxrss keeps, on
Linux, the parent's RSS at the fork across the exec. The throughput is moto's as much as the dispatcher's
(see the CPU share).

**Cold start** (bench/bench_cold_start.py): Python 3.12 (Lambda's runtime); the function's directory and
the layer (the wacast package and layers/common/requirements.txt) on sys.path as Lambda puts them, all
compiled to unchecked-hash bytecode as `make build` leaves them (deploy/check_artifacts.py); the
requirements are this machine's x86_64 wheels, since `make build`'s aarch64 ones cannot load here. The
environment is the function's own plus LAMBDA_TASK_ROOT, so Powertools' tracer is on as on Lambda. Timed
inside a fresh interpreter around the import of the handler module (what it costs over a bare
interpreter), median of several; the biggest imports come from `python -X importtime`: the largest by
cumulative time, skipping the handler itself and imports that only pass through to one child.

**Sessions** (bench/bench_sessions.py): a fresh process per kind, VmRSS after the first session and after
all: simulated sessions opened with SimulatedDriver.start (their Python objects also counted with
tracemalloc, in a third process: they fit in pages the process already holds, so VmRSS barely moves);
neonize sessions opened with the host's NeonizeDriver.start and the real neonize client, dialling through a
proxy on 127.0.0.1 that accepts and never answers (no network): the Go client built, its SQLite store
open, its dial in flight. A linked session also holds keys, contacts and sync state: that figure is a floor.

**Contact import** (bench/bench_contact_import.py, unchanged): its own table, moto in its process without
the bench's patches.

## moto patches, in the bench only (bench/moto_server.py)

The bench measures the product, not the emulator. None of these changes what moto answers (a check
against moto's own Query on random pages, prefixes and start keys gave identical pages); they change how
long it takes. They are applied only by the bench's moto (`python -m bench.moto_server`, and in-process
for the dispatcher bench), on top of the local stack's own (local/moto_server.py: transactions snapshot the
touched items, not whole tables).
- SQS SendMessage recounts the whole queue (three list comprehensions over every message, through
  `queue.attributes`) for every message, so a large unconsumed outbox made a fan-out quadratic (10,000
  contacts: 796 s). The counts are skipped while a message is sent; GetQueueAttributes still counts.
- DynamoDB Query lists and sorts every item of the table on every page. A Query of the table in key order
  is handed only the partition's keys from where the condition and the ExclusiveStartKey allow, one more
  than the Limit, from a sorted key list kept per partition.
- Responses that return items skip moto 5.2's generic shape serializer (about 0.8 ms per item) for
  json.dumps of the same result.
- Parsed condition expressions are cached by expression, names and values.
"""


def render(
    about: dict[str, Any],
    figures: dict[str, Any],
    outputs: dict[str, str],
    durations: dict[str, float],
    failed: list[str],
) -> str:
    out = "# Bench results\n\n"
    out += (
        f"{about['date']} · {about['machine']}, {about['cpus']} CPUs · Python {about['python']}, moto "
        f"{about.get('moto', '?')} "
        f"(cold start: {figures.get('cold_start', {}).get('python', '?')}) · commit {about['commit']}, product code "
        f"{about['product_code']} · "
        f"`make bench` took {about['seconds']:.0f} s ("
        + ", ".join(f"{k.removeprefix('bench/')} {v:.0f} s" for k, v in durations.items())
        + ").\n"
    )
    if failed:
        out += f"\n**FAILED: {', '.join(failed)}** (their output is at the end).\n"
    delivery = figures.get("delivery")
    if delivery:
        out += "\n## Cost of a campaign message, creation to READ\n\n" + cost_section(delivery)
        out += "\n## Where it goes: the costliest calls of each deployable\n" + biggest_section(delivery)
        out += "".join(calls_section(run) for run in delivery["runs"] if "calls" in run)
        out += "\n## Enqueue → SENT\n\n" + latency_section(delivery["latency"])
    if "dispatcher" in figures:
        contacts = figures["dispatcher"]["checkpoints"][-1]["contacts"]
        out += f"\n## Dispatcher: one campaign of {contacts:,} contacts\n\n" + dispatcher_section(figures["dispatcher"])
    if "cold_start" in figures:
        out += "\n## Cold start (handler module import)\n\n" + cold_start_section(figures["cold_start"])
    if "sessions" in figures:
        out += "\n## Memory per WhatsApp session\n\n" + sessions_section(figures["sessions"])
    imported = outputs.get("bench/bench_contact_import.py", "").strip()
    if imported:
        out += f"\n## Contact import\n\n```\n{imported}\n```\n"
    out += METHODS.replace("{moto}", about.get("moto", "?"))
    for script in failed:
        out += f"\n## Output of {script} (failed)\n\n```\n{outputs.get(script, '')[-3000:]}\n```\n"
    return out
