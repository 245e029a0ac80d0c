// Conversations and webhooks against a stand-in API: a thread reads oldest first with both directions,
// media and campaigns; an answer's error is shown at its field; a webhook's secret is shown once; only a
// dead delivery offers a replay.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";
import type { Conversation, ConversationEntry, CreatedWebhook, WebhookDelivery, WebhookEndpoint } from "../../src/api/types";
import { Conversations } from "../../src/pages/Conversations";
import { Webhooks } from "../../src/pages/Webhooks";
import { apiError, fakeApi, json, renderAt, signIn } from "./fakeApi";

const PHONE = "+919876510001";
const CONVERSATION: Conversation = {
  account_id: "acct_1",
  phone: PHONE,
  contact_id: "ct_1",
  sender_id: "sndr_1",
  last_at: "2026-12-01T10:05:00Z",
  last_text: "",
  last_direction: "in",
  replies: 2,
};
const at = (minute: number) => `2026-12-01T10:0${minute}:00Z`;
// newest first, as the API answers
const ENTRIES: ConversationEntry[] = [
  { id: "r_2", direction: "in", sender_id: "sndr_1", at: at(5), text: "", media_type: "image", campaign_id: "cmp_1", in_reply_to: "msg_1" },
  { id: "r_1", direction: "in", sender_id: "sndr_1", at: at(3), text: "Is it on Sunday too?", campaign_id: "cmp_1", in_reply_to: "msg_1" },
  { id: "msg_1", direction: "out", sender_id: "sndr_1", at: at(1), text: "Hi Friend! 20% off", status: "READ", campaign_id: "cmp_1" },
];

function conversationsApi(answer: (body: unknown) => Response) {
  return fakeApi({
    "GET /api/conversations": () => json(200, { items: [CONVERSATION], next_cursor: null }),
    "GET /api/conversations/([^/]+)/messages": () => json(200, { conversation: CONVERSATION, items: ENTRIES, next_cursor: null }),
    "POST /api/conversations/([^/]+)/messages": async (request) => answer(await request.json()),
    "GET /api/contacts/ct_1": () =>
      json(200, { id: "ct_1", phone: PHONE, name: "Friend 1", attributes: {}, tags: [], opted_out: false, opted_out_at: null, opted_out_source: null, import_batch: null, created_at: at(0), updated_at: at(0) }),
    "GET /api/campaigns/cmp_1": () => json(200, { id: "cmp_1", name: "Diwali 2026" }),
    "GET /api/senders": () => json(200, [{ id: "sndr_1", display_name: "Front desk", status: { state: "connected", drivers: {} } }]),
  });
}

describe("a conversation", () => {
  test("reads oldest first, both ways: the campaign message with its status, a reply, a media reply", async () => {
    signIn();
    conversationsApi(() => json(200, {}));
    renderAt(`/conversations/${encodeURIComponent(PHONE)}`, "/conversations/:phone", <Conversations />);
    const chat = await screen.findByRole("region", { name: "Messages with Friend 1" });
    await waitFor(() => expect(within(chat).getAllByRole("listitem")).toHaveLength(3));
    const [sent, reply, media] = within(chat).getAllByRole("listitem") as [HTMLElement, HTMLElement, HTMLElement];
    expect(sent).toHaveTextContent(/^You sent: Hi Friend! 20% off/);
    expect(within(sent).getByText("Read")).toBeInTheDocument();
    expect(await within(sent).findByRole("link", { name: "Diwali 2026" })).toHaveAttribute("href", "/campaigns/cmp_1");
    expect(reply).toHaveTextContent(/^They wrote: Is it on Sunday too\?/);
    expect(media).toHaveTextContent("An image message");
    // the list: the contact's name, and the conversation waits for an answer
    const item = screen.getByRole("link", { current: "page" });
    expect(item).toHaveTextContent("Friend 1");
    expect(item).toHaveTextContent("Awaiting your answer");
    expect(item).toHaveTextContent("(a media message)");
  });

  test("an answer the API refuses shows its reason at the field; a sent one clears the box", async () => {
    signIn();
    let tries = 0;
    const { calls } = conversationsApi(() =>
      ++tries === 1
        ? apiError(422, "validation_error", "too long", [{ field: "message", message: "the answer is too long" }])
        : json(200, { jobId: "msg_2", status: "SENT", phone: PHONE, message: "Yes!", senderId: "sndr_1", attempts: 1, createdAt: at(6), updatedAt: at(6) }),
    );
    renderAt(`/conversations/${encodeURIComponent(PHONE)}`, "/conversations/:phone", <Conversations />);
    const box = await screen.findByLabelText("Your answer");
    await userEvent.click(screen.getByRole("button", { name: "Send answer" }));
    await waitFor(() => expect(box).toHaveAccessibleDescription(/Write the answer first\./));
    await userEvent.type(box, "Yes!");
    await userEvent.click(screen.getByRole("button", { name: "Send answer" }));
    await waitFor(() => expect(box).toHaveAccessibleDescription(/the answer is too long/));
    expect(box).toHaveFocus();
    await userEvent.click(screen.getByRole("button", { name: "Send answer" }));
    expect(await screen.findByText("Answer sent.")).toBeInTheDocument();
    expect(box).toHaveValue("");
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts).toHaveLength(2);
    expect(posts[1]?.path).toBe("/api/conversations/%2B919876510001/messages");
    expect(JSON.parse(posts[1]?.body ?? "{}")).toEqual({ message: "Yes!" });
  });
});

const ENDPOINT: WebhookEndpoint = {
  id: "wh_1",
  url: "https://example.com/hooks",
  events: ["message.received"],
  description: "",
  enabled: true,
  disabled_reason: null,
  disabled_at: null,
  previous_secret_expires_at: null,
  consecutive_dead: 1,
  created_at: at(0),
  updated_at: at(0),
};
const delivery = (id: string, status: WebhookDelivery["status"], code: number | null): WebhookDelivery => ({
  id,
  account_id: "acct_1",
  endpoint_id: "wh_1",
  event_id: `ev_${id}`,
  event_type: "message.received",
  status,
  attempts: 1,
  response_code: code,
  latency_ms: 12,
  error: code ? `HTTP ${code}` : null,
  next_attempt_at: null,
  replay: 0,
  created_at: at(1),
  updated_at: at(1),
});

describe("webhooks", () => {
  test("a new endpoint's secret is shown once; the chosen events are sent", async () => {
    signIn();
    let endpoints: WebhookEndpoint[] = [];
    const created: CreatedWebhook = { ...ENDPOINT, secret: "whsec_abc" };
    const { calls } = fakeApi({
      "GET /api/webhooks": () => json(200, endpoints),
      "POST /api/webhooks": () => {
        endpoints = [ENDPOINT];
        return json(201, created);
      },
    });
    renderAt("/settings", "/settings", <Webhooks canManage />);
    expect(await screen.findByText("No webhook endpoint")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Endpoint URL"), "https://example.com/hooks");
    await userEvent.click(screen.getByRole("checkbox", { name: /message\.status/ })); // off
    await userEvent.click(screen.getByRole("button", { name: "Add endpoint" }));
    expect(await screen.findByText("whsec_abc")).toBeInTheDocument();
    expect(JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}")).toEqual({
      url: "https://example.com/hooks",
      events: ["message.received"],
      description: "",
    });
    expect(await screen.findByRole("heading", { name: "https://example.com/hooks" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "I have stored it" }));
    expect(screen.queryByText("whsec_abc")).toBeNull();
  });

  test("the delivery log offers a replay for a dead delivery only", async () => {
    signIn();
    const { calls } = fakeApi({
      "GET /api/webhooks": () => json(200, [ENDPOINT]),
      "GET /api/webhooks/wh_1/deliveries": () => json(200, { items: [delivery("d_2", "pending", null), delivery("d_1", "dead", 404)], next_cursor: null }),
      "POST /api/webhooks/wh_1/deliveries/d_1/replay": () => json(202, { ...delivery("d_1", "pending", null), replay: 1 }),
    });
    renderAt("/settings", "/settings", <Webhooks canManage />);
    await userEvent.click(await screen.findByRole("button", { name: "Deliveries" }));
    const table = await screen.findByRole("table", { name: "Deliveries to https://example.com/hooks" });
    const rows = await within(table).findAllByRole("row");
    const [, pending, dead] = rows as [HTMLElement, HTMLElement, HTMLElement];
    expect(within(pending).queryByRole("button", { name: "Replay" })).toBeNull();
    expect(dead).toHaveTextContent("Dead");
    expect(dead).toHaveTextContent("HTTP 404");
    await userEvent.click(within(dead).getByRole("button", { name: "Replay" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/webhooks/wh_1/deliveries/d_1/replay")).toBe(true));
  });
});
