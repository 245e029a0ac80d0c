import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, call } from "../api/client";
import { ApiError } from "../api/errors";
import { collect, contactsPage, keys, useCampaign, useSenders, useTemplates } from "../api/queries";
import type { Audience, Campaign, CampaignDraft, Contact, PacingPolicy } from "../api/types";
import { useSession } from "../auth/useSession";
import { senderStateLabel } from "../components/Badge";
import { Choices, Field } from "../components/Field";
import { FormError, LoadError, Loading, Notice } from "../components/feedback";
import { PacingEditor } from "../components/PacingEditor";
import { Page } from "../components/Page";
import { BodyEditor, LivePreview } from "../components/TemplateBody";
import { countAudience } from "../lib/audience";
import { browserTimeZone, formatNumber, timeZones } from "../lib/format";
import { recentImports } from "../lib/imports";
import { WEEKDAYS, describeCron, toCron, zonedIso, type Frequency, type Recurrence } from "../lib/schedule";
import { parse } from "../lib/template";
import { matches } from "./Contacts";
import { useFormErrors } from "../lib/useFormErrors";

type AudienceKind = "tags" | "import_batch" | "contact_ids";
type When = "now" | "once" | "recurring" | "draft";

const FIELDS = ["name", "sender_id", "template_id", "body", "audience", "pacing", "send_at", "cron", "timezone", "end"];

export function CampaignBuilderPage() {
  const { id } = useParams();
  const existing = useCampaign(id ?? "");
  if (!id) return <CampaignBuilder campaign={null} />;
  if (existing.isPending) return <Loading />;
  if (existing.isError) return <LoadError error={existing.error} retry={() => existing.refetch()} />;
  if (existing.data.status !== "draft") {
    return (
      <Page title={existing.data.name}>
        <Notice tone="warning">
          Only a draft can be edited: this campaign is {existing.data.status}. <Link to={`/campaigns/${id}`}>Back to the campaign</Link>.
        </Notice>
      </Page>
    );
  }
  return <CampaignBuilder campaign={existing.data} />;
}

function today(offsetDays = 0): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function CampaignBuilder({ campaign }: { campaign: Campaign | null }) {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSession();
  const senders = useSenders();
  const templates = useTemplates();
  const form = useFormErrors(FIELDS);

  const initialAudience = campaign?.audience;
  const [name, setName] = useState(campaign?.name ?? "");
  /** The API's refusal to start a campaign whose recipients would nearly all get the same text. */
  const [sameText, setSameText] = useState<{ id: string; message: string } | null>(null);
  const [senderId, setSenderId] = useState(campaign?.sender_id ?? session?.account.default_sender_id ?? "");
  const [audienceKind, setAudienceKind] = useState<AudienceKind>(
    initialAudience?.contact_ids ? "contact_ids" : initialAudience?.import_batch || params.get("import_batch") ? "import_batch" : "tags",
  );
  const [tags, setTags] = useState<string[]>(initialAudience?.tags ?? (params.get("tag") ? [params.get("tag") ?? ""] : []));
  const [tagInput, setTagInput] = useState("");
  const [importBatch, setImportBatch] = useState(initialAudience?.import_batch ?? params.get("import_batch") ?? "");
  const [picked, setPicked] = useState<Set<string>>(new Set(initialAudience?.contact_ids ?? []));
  const [messageKind, setMessageKind] = useState<"template" | "body">(
    campaign?.body ? "body" : campaign?.template_id || params.get("template_id") ? "template" : "body",
  );
  const [templateId, setTemplateId] = useState(campaign?.template_id ?? params.get("template_id") ?? "");
  const [body, setBody] = useState(campaign?.body ?? "");
  const [pacing, setPacing] = useState<PacingPolicy | null>(campaign?.pacing ?? { preset: "safe" });
  const [when, setWhen] = useState<When>("now");
  const [date, setDate] = useState(today(1));
  const [time, setTime] = useState("10:00");
  const [timezone, setTimezone] = useState(campaign?.schedule?.timezone ?? browserTimeZone());
  const [recurrence, setRecurrence] = useState<Recurrence>({ frequency: "weekly", time: "10:00", weekday: 1, dayOfMonth: 1 });
  const [endDate, setEndDate] = useState("");
  const [savedId, setSavedId] = useState<string | null>(campaign?.id ?? null);
  const [busy, setBusy] = useState(false);

  const sender = senders.data?.find((s) => s.id === senderId) ?? null;
  const senderAgeDays = sender ? Math.floor((Date.now() - Date.parse(sender.created_at)) / 86_400_000) : undefined;
  const template = templates.data?.find((t) => t.id === templateId) ?? null;
  const messageBody = messageKind === "template" ? (template?.body ?? "") : body;

  // contacts to pick from (and to know the picked ones' opt-out state)
  const pickable = useQuery({
    queryKey: ["contacts", "pickable"],
    queryFn: () => collect((cursor) => contactsPage({}, cursor), 2000),
    enabled: audienceKind === "contact_ids",
  });
  const audience: Audience = useMemo(() => {
    if (audienceKind === "tags") return { tags };
    if (audienceKind === "import_batch") return { import_batch: importBatch || null };
    return { contact_ids: [...picked] };
  }, [audienceKind, tags, importBatch, picked]);
  const audienceReady =
    (audienceKind === "tags" && tags.length > 0) || (audienceKind === "import_batch" && !!importBatch) || (audienceKind === "contact_ids" && picked.size > 0);
  const count = useQuery({
    queryKey: ["contacts", "audience-count", audience, audienceKind === "contact_ids" ? pickable.dataUpdatedAt : 0],
    queryFn: () => countAudience(audience, pickable.data?.items ?? []),
    enabled: audienceReady && (audienceKind !== "contact_ids" || !!pickable.data),
  });
  const sendable = count.data ? count.data.total - count.data.optedOut : null;

  const imports = session ? recentImports(session.account.id) : [];

  const addTag = () => {
    const value = tagInput.trim().toLowerCase();
    if (value && !tags.includes(value)) setTags([...tags, value]);
    setTagInput("");
  };
  const onTagKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      addTag();
    } else if (event.key === "Backspace" && !tagInput && tags.length) {
      setTags(tags.slice(0, -1));
    }
  };

  const validate = (): Record<string, string> => {
    const fields: Record<string, string> = {};
    if (!name.trim()) fields.name = "Give the campaign a name (only you see it).";
    if (!audienceReady) {
      fields.audience =
        audienceKind === "tags" ? "Add at least one tag." : audienceKind === "import_batch" ? "Choose an import." : "Pick at least one contact.";
    }
    if (messageKind === "template" && !templateId) fields.template_id = "Choose a template.";
    if (messageKind === "body") {
      const parsed = parse(body);
      if (!body.trim()) fields.body = "Write the message.";
      else if (!parsed.ok) fields.body = `Line ${parsed.problem.line}, column ${parsed.problem.column}: ${parsed.problem.message}`;
    }
    if (when === "once" && (!date || !time)) fields.send_at = "Choose the date and time.";
    return fields;
  };

  const draft = (): CampaignDraft => ({
    name: name.trim(),
    sender_id: senderId || null,
    template_id: messageKind === "template" ? templateId : null,
    body: messageKind === "body" ? body : null,
    audience,
    pacing,
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    setSameText(null);
    const problems = validate();
    if (Object.keys(problems).length) return form.set(problems);
    setBusy(true);
    let saved: Campaign;
    try {
      saved = savedId
        ? await call(api.PUT("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: savedId } }, body: draft() }))
        : await call(api.POST("/api/campaigns", { body: draft() }));
      setSavedId(saved.id);
    } catch (error) {
      setBusy(false);
      return form.fail(error, { campaignId: "name" });
    }
    const path = { campaign_id: saved.id };
    try {
      if (when === "now") await call(api.POST("/api/campaigns/{campaign_id}/start", { params: { path } }));
      if (when === "once") {
        await call(api.POST("/api/campaigns/{campaign_id}/schedule", { params: { path }, body: { send_at: zonedIso(date, time, timezone), timezone } }));
      }
      if (when === "recurring") {
        const end = endDate ? zonedIso(endDate, "23:59", timezone) : null;
        await call(api.POST("/api/campaigns/{campaign_id}/schedule", { params: { path }, body: { cron: toCron(recurrence), timezone, end } }));
      }
    } catch (error) {
      setBusy(false);
      await queryClient.invalidateQueries({ queryKey: keys.campaigns });
      if (error instanceof ApiError && error.status === 409 && "confirm" in error.fieldErrors()) {
        setSameText({ id: saved.id, message: error.message.replace(/; start it with confirm=true.*$/, "") });
        return;
      }
      form.fail(error);
      if (error instanceof ApiError && !Object.keys(error.fieldErrors()).length) {
        form.set({}, `${error.message} The campaign is saved as a draft: fix this and try again.`);
      }
      await queryClient.invalidateQueries({ queryKey: keys.campaigns });
      return;
    }
    await queryClient.invalidateQueries({ queryKey: keys.campaigns });
    navigate(`/campaigns/${saved.id}`);
  };

  const action = { now: "Send now", once: "Schedule", recurring: "Start the schedule", draft: "Save draft" }[when];

  return (
    <Page title={campaign ? `Edit: ${campaign.name}` : "New campaign"} lead="Who gets it, what it says, how fast it goes, and when.">
      <form ref={form.formRef} className="builder" onSubmit={submit} noValidate>
        <FormError message={form.errors.general} />

        <section className="card" aria-labelledby="b-basics">
          <h2 id="b-basics">Campaign</h2>
          <div className="row">
            <Field label="Name" hint="Only you see it, e.g. Diwali offer – VIPs" error={form.of("name")}>
              <input type="text" value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <Field
              label="Send from"
              error={form.of("sender_id")}
              hint={sender && sender.status.state !== "connected" ? undefined : "The WhatsApp number the messages come from."}
            >
              <select value={senderId} onChange={(e) => setSenderId(e.target.value)}>
                {senders.data?.map((s) => (
                  <option key={s.id} value={s.id}>
                    {(s.display_name || s.phone) ?? s.id} — {senderStateLabel(s.status.state)}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {sender && sender.status.state !== "connected" ? (
            <Notice tone="warning">
              This number is not connected ({senderStateLabel(sender.status.state)}): messages wait until it is. <Link to="/numbers">Link it</Link>.
            </Notice>
          ) : null}
        </section>

        <section className="card" aria-labelledby="b-audience">
          <h2 id="b-audience">Audience</h2>
          <Choices legend="Send to" error={form.of("audience")}>
            <div className="segmented">
              {(
                [
                  ["tags", "Contacts with a tag"],
                  ["import_batch", "An imported file"],
                  ["contact_ids", "Contacts I pick"],
                ] as const
              ).map(([value, label]) => (
                <label key={value} className={audienceKind === value ? "on" : undefined}>
                  <input type="radio" name="audience-kind" checked={audienceKind === value} onChange={() => setAudienceKind(value)} />
                  {label}
                </label>
              ))}
            </div>
          </Choices>
          {audienceKind === "tags" ? (
            <div className={`field${form.of("audience.tags") ? " field--invalid" : ""}`}>
              <label htmlFor="audience-tags">Tags</label>
              <p id="audience-tags-hint" className="hint">
                Anyone with any of these tags gets it, once. Press Enter after each tag.
              </p>
              <div className="chips-input">
                {tags.map((t) => (
                  <span key={t} className="tag">
                    {t}
                    <button type="button" aria-label={`Remove tag ${t}`} onClick={() => setTags(tags.filter((x) => x !== t))}>
                      ×
                    </button>
                  </span>
                ))}
                <input
                  id="audience-tags"
                  type="text"
                  aria-describedby="audience-tags-hint"
                  aria-invalid={form.of("audience.tags") ? true : undefined}
                  value={tagInput}
                  onChange={(e) => setTagInput(e.target.value)}
                  onKeyDown={onTagKey}
                  onBlur={addTag}
                  placeholder={tags.length ? "" : "e.g. vip"}
                />
              </div>
              {form.of("audience.tags") ? <p className="field-error">{form.of("audience.tags")}</p> : null}
            </div>
          ) : null}
          {audienceKind === "import_batch" ? (
            <Field label="Import" hint="The contacts of one CSV import." error={form.of("audience.import_batch")}>
              <select value={importBatch} onChange={(e) => setImportBatch(e.target.value)}>
                <option value="">Choose an import</option>
                {importBatch && !imports.some((i) => i.batch === importBatch) ? <option value={importBatch}>{importBatch}</option> : null}
                {imports.map((i) => (
                  <option key={i.batch} value={i.batch}>
                    {i.fileName} — {formatNumber(i.rows)} rows, {new Date(i.at).toLocaleDateString()}
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          {audienceKind === "contact_ids" ? (
            <ContactPicker contacts={pickable.data?.items ?? []} loading={pickable.isPending} picked={picked} onChange={setPicked} />
          ) : null}
          <div className="audience-count" role="status" aria-live="polite">
            {!audienceReady ? null : count.isPending ? (
              "Counting…"
            ) : count.data ? (
              <>
                <strong>{formatNumber(sendable ?? 0)}</strong> will get it
                {count.data.optedOut ? ` (${formatNumber(count.data.total)} in the audience, ${formatNumber(count.data.optedOut)} opted out and skipped)` : ""}
                {count.data.complete ? "" : " — at least; the audience is larger than the console counts"}.
              </>
            ) : null}
          </div>
        </section>

        <section className="card" aria-labelledby="b-message">
          <h2 id="b-message">Message</h2>
          <Choices legend="Write it">
            <div className="segmented">
              <label className={messageKind === "body" ? "on" : undefined}>
                <input type="radio" name="message-kind" checked={messageKind === "body"} onChange={() => setMessageKind("body")} /> Write it here
              </label>
              <label className={messageKind === "template" ? "on" : undefined}>
                <input type="radio" name="message-kind" checked={messageKind === "template"} onChange={() => setMessageKind("template")} /> Use a template
              </label>
            </div>
          </Choices>
          <div className="editor-grid">
            <div>
              {messageKind === "template" ? (
                <>
                  <Field label="Template" error={form.of("template_id")}>
                    <select value={templateId} onChange={(e) => setTemplateId(e.target.value)}>
                      <option value="">Choose a template</option>
                      {templates.data?.map((t) => (
                        <option key={t.id} value={t.id}>
                          {t.name}
                          {t.builtin ? " (starter)" : ""}
                        </option>
                      ))}
                    </select>
                  </Field>
                  {template ? <p className="template-body">{template.body}</p> : null}
                </>
              ) : (
                <BodyEditor body={body} onChange={setBody} apiError={form.of("body")} suggestions={Object.keys(count.data?.sample[0]?.attributes ?? {})} />
              )}
            </div>
            <div>
              <LivePreview
                body={messageBody}
                contacts={count.data?.sample ?? []}
                savedTemplateId={messageKind === "template" && templateId ? templateId : null}
                emptyHint="Choose the audience to preview the message with its contacts."
              />
            </div>
          </div>
        </section>

        <section className="card" aria-labelledby="b-pace">
          <h2 id="b-pace">Pace</h2>
          <PacingEditor
            value={pacing}
            onChange={setPacing}
            allowInherit
            floor={sender?.pacing ?? null}
            count={sendable}
            senderAgeDays={senderAgeDays}
            errorOf={(field) => form.of(`pacing.${field}`) ?? (field === "preset" ? form.errors.fields.pacing : undefined)}
            legend="How fast"
          />
        </section>

        <section className="card" aria-labelledby="b-when">
          <h2 id="b-when">When</h2>
          <Choices legend="Send">
            <div className="segmented">
              {(
                [
                  ["now", "Now"],
                  ["once", "Later, once"],
                  ["recurring", "On a schedule"],
                  ["draft", "Not yet (save a draft)"],
                ] as const
              ).map(([value, label]) => (
                <label key={value} className={when === value ? "on" : undefined}>
                  <input type="radio" name="when" checked={when === value} onChange={() => setWhen(value)} />
                  {label}
                </label>
              ))}
            </div>
          </Choices>
          {when === "once" ? (
            <div className="row">
              <Field label="Date" error={form.of("send_at")}>
                <input type="date" value={date} min={today()} onChange={(e) => setDate(e.target.value)} />
              </Field>
              <Field label="Time">
                <input type="time" value={time} onChange={(e) => setTime(e.target.value)} />
              </Field>
              <Field label="Time zone" error={form.of("timezone")}>
                <select value={timezone} onChange={(e) => setTimezone(e.target.value)}>
                  {timeZones().map((z) => (
                    <option key={z}>{z}</option>
                  ))}
                </select>
              </Field>
            </div>
          ) : null}
          {when === "recurring" ? (
            <>
              <div className="row">
                <Field label="Repeat" error={form.of("cron")}>
                  <select value={recurrence.frequency} onChange={(e) => setRecurrence({ ...recurrence, frequency: e.target.value as Frequency })}>
                    <option value="daily">Every day</option>
                    <option value="weekdays">Every weekday (Monday–Friday)</option>
                    <option value="weekly">Every week</option>
                    <option value="monthly">Every month</option>
                  </select>
                </Field>
                {recurrence.frequency === "weekly" ? (
                  <Field label="On">
                    <select value={recurrence.weekday} onChange={(e) => setRecurrence({ ...recurrence, weekday: Number(e.target.value) })}>
                      {WEEKDAYS.map((d, i) => (
                        <option key={d} value={i}>
                          {d}
                        </option>
                      ))}
                    </select>
                  </Field>
                ) : null}
                {recurrence.frequency === "monthly" ? (
                  <Field label="Day of the month">
                    <input
                      type="number"
                      min={1}
                      max={28}
                      value={recurrence.dayOfMonth}
                      onChange={(e) => setRecurrence({ ...recurrence, dayOfMonth: Math.min(28, Math.max(1, Number(e.target.value) || 1)) })}
                    />
                  </Field>
                ) : null}
                <Field label="At">
                  <input type="time" value={recurrence.time} onChange={(e) => setRecurrence({ ...recurrence, time: e.target.value })} />
                </Field>
              </div>
              <div className="row">
                <Field label="Time zone" error={form.of("timezone")}>
                  <select value={timezone} onChange={(e) => setTimezone(e.target.value)}>
                    {timeZones().map((z) => (
                      <option key={z}>{z}</option>
                    ))}
                  </select>
                </Field>
                <Field label="Until (optional)" hint="No run after this day." error={form.of("end")}>
                  <input type="date" value={endDate} min={today()} onChange={(e) => setEndDate(e.target.value)} />
                </Field>
              </div>
              <p className="muted">
                Runs {describeCron(toCron(recurrence))} ({timezone}). Each run sends to the audience as it is then.
              </p>
            </>
          ) : null}
        </section>

        {sameText ? (
          <div className="notice notice--warning same-text" role="alert">
            <p>
              <strong>Not sent yet:</strong> {sameText.message} (one of them is picked for each recipient). The campaign is saved as a draft:
              change its text, or send it anyway.
            </p>
            <button
              type="button"
              className="button button--secondary button--small"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await call(api.POST("/api/campaigns/{campaign_id}/start", { params: { path: { campaign_id: sameText.id } }, body: { confirm: true } }));
                } catch (error) {
                  setBusy(false);
                  form.fail(error);
                  return;
                }
                await queryClient.invalidateQueries({ queryKey: keys.campaigns });
                navigate(`/campaigns/${sameText.id}`);
              }}
            >
              Send it anyway
            </button>
          </div>
        ) : null}
        <div className="actions builder-submit">
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? "Working…" : action}
          </button>
          <Link className="button button--secondary" to={savedId ? `/campaigns/${savedId}` : "/campaigns"}>
            Cancel
          </Link>
        </div>
      </form>
    </Page>
  );
}

function ContactPicker({
  contacts,
  loading,
  picked,
  onChange,
}: {
  contacts: Contact[];
  loading: boolean;
  picked: Set<string>;
  onChange: (ids: Set<string>) => void;
}) {
  const [term, setTerm] = useState("");
  const shown = contacts.filter((c) => matches(c, term)).slice(0, 200);
  const toggle = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    onChange(next);
  };
  if (loading) return <Loading label="Loading contacts…" />;
  return (
    <div className="picker">
      <Field label="Find contacts">
        <input type="search" value={term} onChange={(e) => setTerm(e.target.value)} />
      </Field>
      <div className="picker-tools">
        <span>{formatNumber(picked.size)} picked</span>
        <button type="button" className="button button--small button--secondary" onClick={() => onChange(new Set([...picked, ...shown.filter((c) => !c.opted_out).map((c) => c.id)]))}>
          Pick all shown
        </button>
        <button type="button" className="button button--small button--secondary" onClick={() => onChange(new Set())}>
          Clear
        </button>
      </div>
      <ul className="picker-list">
        {shown.map((c) => (
          <li key={c.id}>
            <input id={`pick-${c.id}`} type="checkbox" checked={picked.has(c.id)} onChange={() => toggle(c.id)} />
            <label htmlFor={`pick-${c.id}`}>
              {c.name || c.phone} <span className="muted">{c.name ? c.phone : ""}</span>
              {c.opted_out ? <span className="badge badge--danger">opted out</span> : null}
            </label>
          </li>
        ))}
      </ul>
    </div>
  );
}
