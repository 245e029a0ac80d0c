"""No request can read or change another account's data. Account A fills its workspace; account B then
calls every route: on A's ids it gets 404, and what it lists, exports, changes or creates stays its own.

The cases are keyed by (method, path) and checked against the app's operations (its OpenAPI document),
so a route added without a cross-account case here makes this test fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from local.inprocess import Roots
from local.lambda_runtime import load_module
from local.template import ROOT
from tests.integration.api_helpers import PASSWORD, register
from wacast.adapters.dynamo.senders import DynamoSenderRepository
from wacast.domain.senders import SenderState

PUBLIC = {("GET", "/health"), ("POST", "/api/auth/register"), ("POST", "/api/auth/login")}
PHONE = "+919876543210"


@dataclass
class Workspaces:
    """Account A's ids, and both accounts' headers."""

    client: TestClient
    a: dict[str, str]
    b: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    #: The counters function's work (message creations are counted from the table's stream).
    settle_counters: Callable[[], int] = lambda: 0

    def as_b(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.b, **kwargs)

    def as_a(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.a, **kwargs)

    def a_contact(self) -> dict[str, Any]:
        response = self.as_a("GET", f"/api/contacts/{self.ids['contact']}")
        assert response.status_code == 200, "A lost its contact"
        return dict(response.json())


def fill_a(client: TestClient) -> Workspaces:
    w = Workspaces(client, register(client, "a@example.com"), register(client, "b@example.com"))
    contact = w.as_a("POST", "/api/contacts", json={"phone": PHONE, "name": "Asha", "tags": ["vip"]}).json()
    w.ids["contact"] = contact["id"]
    w.ids["template"] = w.as_a("POST", "/api/templates", json={"name": "T", "body": "Hi {{name|x}}"}).json()["id"]
    key = w.as_a("POST", "/api/auth/api-keys", json={"name": "k"}).json()
    w.ids["key"], w.ids["key_secret"] = key["id"], key["key"]
    w.ids["job"] = w.as_a("POST", "/api/messages/send", json={"phone": PHONE, "message": "hi"}).json()["jobId"]
    w.as_a("POST", "/api/contacts/opt-out", json={"phone": "+14155550100"})
    files = {"file": ("a.csv", b"phone,tags\n+447911123456,imported\n", "text/csv")}
    w.ids["batch"] = w.as_a("POST", "/api/contacts/import", files=files).json()["import_batch"]
    w.ids["sender"] = w.as_a("GET", "/api/auth/me").json()["account"]["default_sender_id"]
    give_a_qr(w)
    draft = {"name": "A's campaign", "template_id": w.ids["template"], "audience": {"tags": ["vip"]}}
    w.ids["campaign"] = w.as_a("POST", "/api/campaigns", json=draft).json()["id"]
    w.ids["scheduled"] = w.as_a("POST", "/api/campaigns", json={**draft, "name": "A's later"}).json()["id"]
    w.ids["import"] = w.as_a("POST", "/api/contacts/imports", json={}).json()["id"]
    w.ids["export"] = w.as_a("POST", "/api/contacts/exports").json()["id"]
    w.ids["messages_export"] = w.as_a("POST", f"/api/campaigns/{w.ids['campaign']}/messages/exports").json()["id"]
    later = {"send_at": "2099-01-01T09:00:00+05:30", "timezone": "Asia/Kolkata"}
    assert w.as_a("POST", f"/api/campaigns/{w.ids['scheduled']}/schedule", json=later).status_code == 200
    give_a_conversation_and_a_webhook(w)
    return w


def give_a_conversation_and_a_webhook(w: Workspaces) -> None:
    """A's phone answered (a reply, stored as the events function stores it) and A has a webhook with a delivery."""
    from wacast.adapters.dynamo.conversations import DynamoConversationRepository
    from wacast.domain.conversations import Reply

    account_id = w.as_a("GET", "/api/auth/me").json()["account"]["id"]
    reply = Reply(
        id="r_a_secret",
        account_id=account_id,
        sender_id=w.ids["sender"],
        phone=PHONE,
        text="a-secret-reply",
        at=datetime.now(UTC),
    )
    assert DynamoConversationRepository().save_reply(reply)
    hook = {"url": "http://127.0.0.1:9/a-hook", "events": ["message.status"]}
    w.ids["webhook"] = w.as_a("POST", "/api/webhooks", json=hook).json()["id"]
    w.ids["delivery"] = w.as_a("POST", f"/api/webhooks/{w.ids['webhook']}/test").json()["id"]


def b_on_a_webhook(method: str, suffix: str = "", **kwargs: Any) -> Case:
    def case(w: Workspaces) -> None:
        is_404(w.as_b(method, f"/api/webhooks/{w.ids['webhook']}{suffix.format(**w.ids)}", **kwargs))
        a_view = w.as_a("GET", f"/api/webhooks/{w.ids['webhook']}")
        assert a_view.status_code == 200 and a_view.json()["enabled"] is True

    return case


def b_creates_a_webhook(w: Workspaces) -> None:
    created = w.as_b("POST", "/api/webhooks", json={"url": "http://127.0.0.1:9/b-hook", "events": ["sender.state"]})
    assert created.status_code == 201, created.text
    is_404(w.as_a("GET", f"/api/webhooks/{created.json()['id']}"))


def is_404(response: Any) -> None:
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", response.text


def b_sees_none_of_a(response: Any, *a_values: str) -> None:
    assert response.status_code == 200, response.text
    assert not any(value in response.text for value in a_values), response.text


def b_opts_out_a_phone(w: Workspaces) -> None:
    assert w.as_b("POST", "/api/contacts/opt-out", json={"phone": PHONE}).json()["contact_id"] != w.ids["contact"]
    assert not w.a_contact()["opted_out"]
    assert w.as_a("POST", "/api/messages/send", json={"phone": PHONE, "message": "hi"}).status_code in (200, 202)


def b_opts_in_a_phone(w: Workspaces) -> None:
    assert w.as_b("POST", "/api/contacts/opt-in", json={"phone": "+14155550100"}).status_code == 200
    a_send = w.as_a("POST", "/api/messages/send", json={"phone": "+14155550100", "message": "hi"})
    assert a_send.status_code == 409  # still opted out in A


def b_imports_a_phones(w: Workspaces) -> None:
    files = {"file": ("b.csv", f"phone,name,tags\n{PHONE},Bob's copy,b\n".encode(), "text/csv")}
    report = w.as_b("POST", "/api/contacts/import", files=files).json()
    assert report["imported"] == 1 and report["import_batch"] != w.ids["batch"]
    assert w.a_contact()["name"] == "Asha" and w.a_contact()["tags"] == ["vip"]


def b_creates_a_phone(w: Workspaces) -> None:
    created = w.as_b("POST", "/api/contacts", json={"phone": "+447911123457"})
    assert created.status_code == 201 and created.json()["id"] != w.ids["contact"]
    is_404(w.as_a("GET", f"/api/contacts/{created.json()['id']}"))


def b_creates_a_template(w: Workspaces) -> None:
    created = w.as_b("POST", "/api/templates", json={"name": "B", "body": "B"}).json()
    is_404(w.as_a("GET", f"/api/templates/{created['id']}"))


def b_previews_with_a_contact(w: Workspaces) -> None:
    is_404(w.as_b("POST", f"/api/templates/{w.ids['template']}/preview", json={}))
    is_404(w.as_b("POST", "/api/templates/builtin_welcome/preview", json={"contact_id": w.ids["contact"]}))


def b_creates_a_key(w: Workspaces) -> None:
    secret = w.as_b("POST", "/api/auth/api-keys", json={"name": "b"}).json()["key"]
    is_404(w.client.get(f"/api/contacts/{w.ids['contact']}", headers={"X-Api-Key": secret}))


def b_revokes_a_key(w: Workspaces) -> None:
    is_404(w.as_b("DELETE", f"/api/auth/api-keys/{w.ids['key']}"))
    assert w.client.get("/api/contacts", headers={"X-Api-Key": w.ids["key_secret"]}).status_code == 200


def b_adds_a_user(w: Workspaces) -> None:
    w.as_b("POST", "/api/auth/users", json={"email": "b2@example.com", "password": PASSWORD})
    token = w.client.post("/api/auth/login", json={"email": "b2@example.com", "password": PASSWORD}).json()["token"]
    is_404(w.client.get(f"/api/contacts/{w.ids['contact']}", headers={"Authorization": f"Bearer {token}"}))


def b_changes_settings(w: Workspaces) -> None:
    assert w.as_b("PATCH", "/api/account/settings", json={"default_country": "US"}).status_code == 200
    assert w.as_a("GET", "/api/account/settings").json()["default_country"] == "IN"


def b_sends_to_a_phone(w: Workspaces) -> None:
    job = w.as_b("POST", "/api/messages/send", json={"phone": PHONE, "message": "from b"}).json()["jobId"]
    is_404(w.as_a("GET", f"/api/messages/queue/job/{job}"))


def b_creates_a_campaign_from_a_things(w: Workspaces) -> None:
    with_a_template = {"name": "B", "template_id": w.ids["template"], "audience": {"tags": ["vip"]}}
    refused = w.as_b("POST", "/api/campaigns", json=with_a_template)
    assert refused.status_code == 404 and refused.json()["error"]["details"][0]["field"] == "template_id"
    with_a_contacts = {"name": "B", "body": "hi", "audience": {"contact_ids": [w.ids["contact"]]}}
    refused = w.as_b("POST", "/api/campaigns", json=with_a_contacts)  # A's contact is not B's
    assert refused.status_code == 404 and refused.json()["error"]["details"][0]["unknown"] == [w.ids["contact"]]


def b_on_a_campaign(method: str, suffix: str = "", **kwargs: Any) -> Case:
    def case(w: Workspaces) -> None:
        is_404(w.as_b(method, f"/api/campaigns/{w.ids['campaign']}{suffix}", **kwargs))
        assert w.as_a("GET", f"/api/campaigns/{w.ids['campaign']}").json()["status"] == "draft"

    return case


def b_creates_a_file_job(path: str, a_path: str) -> Case:
    """B's import or export job is B's: A cannot read it (`a_path` formats B's job id)."""

    def case(w: Workspaces) -> None:
        created = w.as_b("POST", path)
        assert created.status_code in (201, 202) and created.json()["id"] not in w.ids.values()
        is_404(w.as_a("GET", a_path.format(created.json()["id"])))

    return case


def give_a_qr(w: Workspaces) -> None:
    """A's sender shows a QR (as the host writes it while linking), so a 404 to B means isolation."""
    senders = DynamoSenderRepository()  # the table the test's roots are bound to, written as the host does
    account_id = w.as_a("GET", "/api/auth/me").json()["account"]["id"]
    sender = senders.get(account_id, w.ids["sender"])
    assert sender is not None
    linking = {"qr": "2@a-secret-qr", "qr_updated_at": datetime.now(UTC), "state": SenderState.LINKING}
    senders.save_state(sender.model_copy(update=linking))


def b_on_a_sender(method: str, suffix: str = "", **kwargs: Any) -> Case:
    def case(w: Workspaces) -> None:
        is_404(w.as_b(method, f"/api/senders/{w.ids['sender']}{suffix}", **kwargs))
        if method == "GET":  # what B was refused, A can read
            assert w.as_a("GET", f"/api/senders/{w.ids['sender']}{suffix}").status_code == 200, suffix

    return case


def b_creates_a_sender(w: Workspaces) -> None:
    created = w.as_b("POST", "/api/senders", json={"phone": "+447911123459", "drivers": ["simulated"]})
    assert created.status_code == 201, created.text
    is_404(w.as_a("GET", f"/api/senders/{created.json()['id']}"))


def b_queues_to_a_phone(w: Workspaces) -> None:
    queued = w.as_b("POST", "/api/messages/queue", json={"phone": "+447911123458", "message": "from b"})
    assert queued.status_code == 202, queued.text
    is_404(w.as_a("GET", f"/api/messages/queue/job/{queued.json()['jobId']}"))


def b_queue_stats(w: Workspaces) -> None:
    w.settle_counters()
    response = w.as_b("GET", "/api/messages/queue/stats")
    b_sees_none_of_a(response, w.ids["campaign"])
    # B's counts are B's own direct sends (two, in the cases before this one), none of A's
    assert response.json()["account"]["total"] == 2


def b_redrives(w: Workspaces) -> None:
    response = w.as_b("POST", "/api/admin/dlq/events/redrive")  # an operator action on the stack's queues
    assert response.status_code == 202, response.text
    assert not any(value in response.text for value in (w.ids["campaign"], w.ids["job"])), response.text


Case = Callable[[Workspaces], None]
CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/auth/me"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/auth/me"), "a@example.com"),
    ("POST", "/api/auth/users"): b_adds_a_user,
    ("POST", "/api/auth/api-keys"): b_creates_a_key,
    ("GET", "/api/auth/api-keys"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/auth/api-keys"), w.ids["key"]),
    ("DELETE", "/api/auth/api-keys/{key_id}"): b_revokes_a_key,
    ("GET", "/api/account/settings"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/account/settings")),
    ("PATCH", "/api/account/settings"): b_changes_settings,
    ("POST", "/api/messages/send"): b_sends_to_a_phone,
    ("GET", "/api/messages/queue/job/{job_id}"): lambda w: is_404(
        w.as_b("GET", f"/api/messages/queue/job/{w.ids['job']}")
    ),
    ("POST", "/api/contacts/import"): b_imports_a_phones,
    ("GET", "/api/contacts/export"): lambda w: b_sees_none_of_a(
        w.as_b("GET", "/api/contacts/export"), w.ids["contact"], "Asha", w.ids["batch"], "+447911123456"
    ),
    ("POST", "/api/contacts/opt-out"): b_opts_out_a_phone,
    ("POST", "/api/contacts/imports"): b_creates_a_file_job("/api/contacts/imports", "/api/contacts/imports/{}"),
    ("GET", "/api/contacts/imports/{import_id}"): lambda w: is_404(
        w.as_b("GET", f"/api/contacts/imports/{w.ids['import']}")
    ),
    ("POST", "/api/contacts/imports/{import_id}/start"): lambda w: is_404(
        w.as_b("POST", f"/api/contacts/imports/{w.ids['import']}/start")
    ),
    ("POST", "/api/contacts/exports"): b_creates_a_file_job("/api/contacts/exports", "/api/contacts/exports/{}"),
    ("GET", "/api/contacts/exports/{export_id}"): lambda w: is_404(
        w.as_b("GET", f"/api/contacts/exports/{w.ids['export']}")
    ),
    ("POST", "/api/campaigns/{campaign_id}/messages/exports"): b_on_a_campaign("POST", "/messages/exports"),
    ("GET", "/api/campaigns/{campaign_id}/messages/exports/{export_id}"): lambda w: is_404(
        w.as_b("GET", f"/api/campaigns/{w.ids['campaign']}/messages/exports/{w.ids['messages_export']}")
    ),
    ("POST", "/api/contacts/opt-in"): b_opts_in_a_phone,
    ("POST", "/api/contacts"): b_creates_a_phone,
    ("GET", "/api/contacts"): lambda w: b_sees_none_of_a(
        w.as_b("GET", "/api/contacts", params={"import_batch": w.ids["batch"]}), "+4479"
    ),
    ("GET", "/api/contacts/{contact_id}"): lambda w: is_404(w.as_b("GET", f"/api/contacts/{w.ids['contact']}")),
    ("PATCH", "/api/contacts/{contact_id}"): lambda w: is_404(
        w.as_b("PATCH", f"/api/contacts/{w.ids['contact']}", json={"name": "hijacked"})
    ),
    ("DELETE", "/api/contacts/{contact_id}"): lambda w: is_404(w.as_b("DELETE", f"/api/contacts/{w.ids['contact']}")),
    ("POST", "/api/templates"): b_creates_a_template,
    ("GET", "/api/templates"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/templates"), w.ids["template"]),
    ("GET", "/api/templates/{template_id}"): lambda w: is_404(w.as_b("GET", f"/api/templates/{w.ids['template']}")),
    ("PATCH", "/api/templates/{template_id}"): lambda w: is_404(
        w.as_b("PATCH", f"/api/templates/{w.ids['template']}", json={"name": "hijacked"})
    ),
    ("DELETE", "/api/templates/{template_id}"): lambda w: is_404(
        w.as_b("DELETE", f"/api/templates/{w.ids['template']}")
    ),
    ("POST", "/api/templates/{template_id}/preview"): b_previews_with_a_contact,
    ("POST", "/api/campaigns"): b_creates_a_campaign_from_a_things,
    ("GET", "/api/campaigns"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/campaigns"), w.ids["campaign"]),
    ("GET", "/api/campaigns/{campaign_id}"): b_on_a_campaign("GET"),
    ("PUT", "/api/campaigns/{campaign_id}"): b_on_a_campaign(
        "PUT", json={"name": "hijacked", "body": "x", "audience": {"tags": ["vip"]}}
    ),
    ("DELETE", "/api/campaigns/{campaign_id}"): b_on_a_campaign("DELETE"),
    ("POST", "/api/campaigns/{campaign_id}/start"): b_on_a_campaign("POST", "/start"),
    ("POST", "/api/campaigns/{campaign_id}/pause"): b_on_a_campaign("POST", "/pause"),
    ("POST", "/api/campaigns/{campaign_id}/resume"): b_on_a_campaign("POST", "/resume"),
    ("POST", "/api/campaigns/{campaign_id}/cancel"): b_on_a_campaign("POST", "/cancel"),
    ("POST", "/api/campaigns/{campaign_id}/schedule"): b_on_a_campaign(
        "POST", "/schedule", json={"send_at": "2099-01-01T09:00:00+00:00"}
    ),
    ("DELETE", "/api/campaigns/{campaign_id}/schedule"): lambda w: is_404(
        w.as_b("DELETE", f"/api/campaigns/{w.ids['scheduled']}/schedule")
    ),
    ("GET", "/api/campaigns/{campaign_id}/stats"): b_on_a_campaign("GET", "/stats"),
    ("GET", "/api/campaigns/{campaign_id}/messages"): b_on_a_campaign("GET", "/messages"),
    ("GET", "/api/campaigns/{campaign_id}/export"): b_on_a_campaign("GET", "/export"),
    ("GET", "/api/campaigns/{campaign_id}/safety"): b_on_a_campaign("GET", "/safety"),
    ("POST", "/api/messages/queue"): b_queues_to_a_phone,
    ("POST", "/api/messages/campaign-send"): lambda w: is_404(
        w.as_b("POST", "/api/messages/campaign-send", json={"campaignId": w.ids["campaign"]})
    ),
    ("POST", "/api/messages/campaign-schedule"): lambda w: is_404(
        w.as_b(
            "POST",
            "/api/messages/campaign-schedule",
            json={"campaignId": w.ids["campaign"], "scheduledTime": "2099-01-01T09:00:00Z"},
        )
    ),
    ("DELETE", "/api/messages/schedule/{campaign_id}"): lambda w: is_404(
        w.as_b("DELETE", f"/api/messages/schedule/{w.ids['scheduled']}")
    ),
    ("GET", "/api/messages/scheduled"): lambda w: b_sees_none_of_a(
        w.as_b("GET", "/api/messages/scheduled"), w.ids["scheduled"]
    ),
    ("GET", "/api/messages/queue/stats"): b_queue_stats,
    ("POST", "/api/admin/dlq/{queue}/redrive"): b_redrives,
    ("GET", "/api/admin/dlq/{queue}/redrives"): lambda w: b_sees_none_of_a(
        w.as_b("GET", "/api/admin/dlq/events/redrives"), w.ids["campaign"], w.ids["job"]
    ),
    ("POST", "/api/senders"): b_creates_a_sender,
    ("GET", "/api/senders"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/senders"), w.ids["sender"]),
    ("GET", "/api/senders/{sender_id}"): b_on_a_sender("GET"),
    ("PATCH", "/api/senders/{sender_id}"): b_on_a_sender("PATCH", json={"display_name": "hijacked"}),
    ("DELETE", "/api/senders/{sender_id}"): b_on_a_sender("DELETE"),
    ("GET", "/api/senders/{sender_id}/status"): b_on_a_sender("GET", "/status"),
    ("POST", "/api/senders/{sender_id}/link"): b_on_a_sender("POST", "/link", json={}),
    ("POST", "/api/senders/{sender_id}/pairing-code"): b_on_a_sender("POST", "/pairing-code", json={}),
    ("POST", "/api/senders/{sender_id}/logout"): b_on_a_sender("POST", "/logout"),
    ("POST", "/api/senders/{sender_id}/resume"): b_on_a_sender("POST", "/resume"),
    ("GET", "/api/senders/{sender_id}/qr"): b_on_a_sender("GET", "/qr"),
    ("GET", "/api/senders/{sender_id}/qr.png"): b_on_a_sender("GET", "/qr.png"),
    ("GET", "/api/senders/{sender_id}/qr.svg"): b_on_a_sender("GET", "/qr.svg"),
    ("GET", "/api/conversations"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/conversations"), "a-secret-reply"),
    ("GET", "/api/conversations/{phone}/messages"): lambda w: is_404(
        w.as_b("GET", f"/api/conversations/{PHONE}/messages")
    ),
    ("POST", "/api/conversations/{phone}/messages"): lambda w: is_404(
        w.as_b("POST", f"/api/conversations/{PHONE}/messages", json={"message": "from b"})
    ),
    ("POST", "/api/webhooks"): b_creates_a_webhook,
    ("GET", "/api/webhooks"): lambda w: b_sees_none_of_a(w.as_b("GET", "/api/webhooks"), w.ids["webhook"]),
    ("GET", "/api/webhooks/{endpoint_id}"): b_on_a_webhook("GET"),
    ("PATCH", "/api/webhooks/{endpoint_id}"): b_on_a_webhook("PATCH", json={"enabled": False}),
    ("DELETE", "/api/webhooks/{endpoint_id}"): b_on_a_webhook("DELETE"),
    ("POST", "/api/webhooks/{endpoint_id}/rotate-secret"): b_on_a_webhook("POST", "/rotate-secret", json={}),
    ("GET", "/api/webhooks/{endpoint_id}/deliveries"): b_on_a_webhook("GET", "/deliveries"),
    ("POST", "/api/webhooks/{endpoint_id}/test"): b_on_a_webhook("POST", "/test"),
    ("POST", "/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay"): b_on_a_webhook(
        "POST", "/deliveries/{delivery}/replay"
    ),
}


def api_routes() -> set[tuple[str, str]]:
    """Every operation of the app, as its OpenAPI document lists them (the routers' own view)."""
    app = load_module(ROOT / "functions/api", "app", "wacast_fn_ApiFunction").app
    return {(method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations}


def test_every_route_has_a_cross_account_case() -> None:
    routes = api_routes() - PUBLIC
    assert not routes - set(CASES), f"add a cross-account case for: {sorted(routes - set(CASES))}"
    assert not set(CASES) - routes, f"cases of routes that no longer exist: {sorted(set(CASES) - routes)}"


def test_account_b_never_reads_or_changes_account_a(client: TestClient, roots: Roots) -> None:
    w = fill_a(client)
    w.settle_counters = roots.settle_counters
    for (method, path), case in CASES.items():
        try:
            case(w)
        except AssertionError as exc:
            raise AssertionError(f"{method} {path}: {exc}") from exc
    # and after all of B's calls, A's workspace is as A left it
    contact = w.a_contact()
    assert (contact["name"], contact["tags"], contact["opted_out"]) == ("Asha", ["vip"], False)
    assert w.as_a("GET", f"/api/templates/{w.ids['template']}").json()["name"] == "T"
    assert w.as_a("GET", f"/api/campaigns/{w.ids['scheduled']}").json()["status"] == "scheduled"
