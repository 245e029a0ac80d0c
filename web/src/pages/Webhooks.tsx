import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, call } from "../api/client";
import { messageOf } from "../api/errors";
import { keys, useDeliveries, useWebhooks } from "../api/queries";
import type { CreatedWebhook, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEventType } from "../api/types";
import { ConfirmButton } from "../components/ConfirmButton";
import { ShownOnce } from "../components/ShownOnce";
import { Choices, Field } from "../components/Field";
import { Empty, FormError, LoadError, Loading } from "../components/feedback";
import { Section } from "../components/Page";
import { Pager, useCursorPager } from "../components/Pager";
import { DataTable } from "../components/DataTable";
import { formatDateTime, formatRelative } from "../lib/format";
import { useFormErrors } from "../lib/useFormErrors";

/** The events an endpoint may subscribe to (`webhook.test` is only sent on request), in plain words. */
const EVENTS: Record<Exclude<WebhookEventType, "webhook.test">, string> = {
  "message.received": "a contact replies",
  "message.status": "a message is sent, delivered, read or fails",
  "contact.opted_out": "a phone opts out",
  "contact.opted_in": "a phone opts back in",
  "campaign.started": "a campaign starts",
  "campaign.paused": "a campaign pauses",
  "campaign.completed": "a campaign completes",
  "sender.state": "a number connects, disconnects or is logged out",
  "webhook.disabled": "another endpoint is disabled after failing",
};
const EVENT_TYPES = Object.keys(EVENTS) as (keyof typeof EVENTS)[];

const DELIVERY: Record<WebhookDeliveryStatus, [string, string]> = {
  pending: ["Pending", "neutral"],
  retrying: ["Retrying", "warning"],
  delivered: ["Delivered", "success"],
  dead: ["Dead", "danger"],
};

/**
 * Webhook endpoints (Settings): register one (its secret is shown once), enable or disable, rotate the
 * secret, delete, send a test event, and each endpoint's delivery log with the replay of a dead delivery.
 * Members see the endpoints and their logs; owners and admins manage them.
 */
export function Webhooks({ canManage }: { canManage: boolean }) {
  const list = useWebhooks();
  const [secret, setSecret] = useState<{ endpoint: CreatedWebhook; rotated: boolean } | null>(null);
  const endpoints = list.data ?? [];
  return (
    <Section title="Webhooks">
      <p className="muted">
        wacast POSTs each event you choose to your URL as JSON, signed with the endpoint's secret in the Wacast-Signature header
        (HMAC-SHA256 over <code>timestamp.body</code>). Failed deliveries are tried again for hours; an endpoint that keeps failing is disabled.
      </p>
      {secret ? <NewSecret created={secret.endpoint} rotated={secret.rotated} onDone={() => setSecret(null)} /> : null}
      {list.isPending ? <Loading /> : null}
      {list.isError ? <LoadError error={list.error} retry={() => list.refetch()} /> : null}
      {list.data && endpoints.length === 0 ? (
        <Empty title="No webhook endpoint">{canManage ? <p>Add your URL below to hear about replies, receipts and campaigns as they happen.</p> : null}</Empty>
      ) : null}
      {endpoints.map((endpoint) => (
        <EndpointCard key={endpoint.id} endpoint={endpoint} canManage={canManage} onRotated={(made) => setSecret({ endpoint: made, rotated: true })} />
      ))}
      {canManage ? <NewEndpoint onCreated={(made) => setSecret({ endpoint: made, rotated: false })} /> : null}
    </Section>
  );
}

function NewEndpoint({ onCreated }: { onCreated: (made: CreatedWebhook) => void }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<WebhookEventType[]>(["message.received", "message.status"]);
  const form = useFormErrors(["url", "events", "description"]);
  const create = useMutation({
    mutationFn: () => call(api.POST("/api/webhooks", { body: { url: url.trim(), events, description } })),
    onSuccess: async (made) => {
      onCreated(made);
      setUrl("");
      setDescription("");
      await queryClient.invalidateQueries({ queryKey: keys.webhooks });
    },
    onError: (error) => form.fail(error),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    if (!url.trim()) return form.set({ url: "Enter the URL that receives the events." });
    if (!events.length) return form.set({ events: "Choose at least one event." });
    create.mutate();
  };
  const toggle = (type: WebhookEventType, on: boolean) =>
    setEvents((current) => (on ? EVENT_TYPES.filter((t) => t === type || current.includes(t)) : current.filter((t) => t !== type)));
  return (
    <form ref={form.formRef} className="webhook-form" onSubmit={submit} noValidate>
      <h3>Add an endpoint</h3>
      <FormError message={form.errors.general} />
      <Field label="Endpoint URL" hint="An https address of yours that answers 2xx within 10 s." error={form.of("url")}>
        <input type="url" inputMode="url" autoComplete="off" placeholder="https://example.com/hooks/wacast" value={url} onChange={(e) => setUrl(e.target.value)} />
      </Field>
      <Field label="Description (optional)" error={form.of("description")}>
        <input type="text" maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <Choices legend="Events to send" error={form.of("events")} className="event-choices">
        {EVENT_TYPES.map((type) => (
          <div className="check" key={type}>
            <input id={`event-${type}`} type="checkbox" checked={events.includes(type)} onChange={(e) => toggle(type, e.target.checked)} />
            <label htmlFor={`event-${type}`}>
              <code>{type}</code> <span className="muted">{EVENTS[type]}</span>
            </label>
          </div>
        ))}
      </Choices>
      <div className="actions">
        <button type="submit" className="button button--secondary" disabled={create.isPending}>
          Add endpoint
        </button>
      </div>
    </form>
  );
}

/** The endpoint's secret, shown once (at creation, or after a rotation): the API never shows it again. */
function NewSecret({ created, rotated, onDone }: { created: CreatedWebhook; rotated: boolean; onDone: () => void }) {
  return (
    <ShownOnce value={created.secret} copyLabel="Copy secret" onDone={onDone} className="new-secret">
      {rotated ? "The new signing secret of " : "The signing secret of "}
      <strong>{created.url}</strong>: copy it now. It is shown only once.
      {rotated && created.previous_secret_expires_at
        ? ` The old secret also signs until ${formatDateTime(created.previous_secret_expires_at)}.`
        : ""}
    </ShownOnce>
  );
}

function EndpointCard({ endpoint, canManage, onRotated }: { endpoint: WebhookEndpoint; canManage: boolean; onRotated: (made: CreatedWebhook) => void }) {
  const queryClient = useQueryClient();
  const [showLog, setShowLog] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = { params: { path: { endpoint_id: endpoint.id } } };
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.webhooks });
  const failed = (error: unknown) => setProblem(messageOf(error));
  const setEnabled = useMutation({
    mutationFn: (enabled: boolean) => call(api.PATCH("/api/webhooks/{endpoint_id}", { ...path, body: { enabled } })),
    onMutate: () => setProblem(null),
    onSuccess: refresh,
    onError: failed,
  });
  const rotate = useMutation({
    mutationFn: () => call(api.POST("/api/webhooks/{endpoint_id}/rotate-secret", { ...path, body: { overlap_seconds: 86_400 } })),
    onMutate: () => setProblem(null),
    onSuccess: async (made) => {
      onRotated(made);
      await refresh();
    },
    onError: failed,
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE("/api/webhooks/{endpoint_id}", path)),
    onSuccess: refresh,
    onError: failed,
  });
  const test = useMutation({
    mutationFn: () => call(api.POST("/api/webhooks/{endpoint_id}/test", path)),
    onMutate: () => {
      setProblem(null);
      setNotice(null);
    },
    onSuccess: async () => {
      setNotice("Test event queued: its delivery shows in the log.");
      setShowLog(true);
      await queryClient.invalidateQueries({ queryKey: ["webhooks", endpoint.id, "deliveries"] });
    },
    onError: failed,
  });
  const logId = `deliveries-${endpoint.id}`;
  return (
    <article className="endpoint" aria-labelledby={`${endpoint.id}-url`}>
      <div className="endpoint-head">
        <div className="endpoint-title">
          <h3 id={`${endpoint.id}-url`} className="endpoint-url">
            {endpoint.url}
          </h3>
          {endpoint.description ? <p className="muted">{endpoint.description}</p> : null}
        </div>
        {endpoint.enabled ? <span className="badge badge--success">Enabled</span> : <span className="badge badge--neutral">Disabled</span>}
      </div>
      {!endpoint.enabled && endpoint.disabled_reason ? (
        <div className="notice notice--warning">
          <p>
            Disabled {endpoint.disabled_at ? formatRelative(endpoint.disabled_at) : ""}: {endpoint.disabled_reason}. Enable it once your
            URL answers again, then replay the dead deliveries from the log.
          </p>
        </div>
      ) : null}
      <p className="endpoint-events">
        <span className="muted">Events: </span>
        {endpoint.events.map((type) => (
          <code key={type} className="event-type">
            {type}
          </code>
        ))}
      </p>
      <p className="muted endpoint-dates">
        Added {formatDateTime(endpoint.created_at)}
        {endpoint.previous_secret_expires_at && Date.parse(endpoint.previous_secret_expires_at) > Date.now()
          ? ` · the previous secret also signs until ${formatDateTime(endpoint.previous_secret_expires_at)}`
          : ""}
        {endpoint.consecutive_dead ? ` · ${endpoint.consecutive_dead} dead deliveries in a row` : ""}
      </p>
      {problem ? (
        <div className="notice notice--error" role="alert">
          {problem}
        </div>
      ) : null}
      {notice ? (
        <p className="muted" role="status">
          {notice}
        </p>
      ) : null}
      <div className="actions endpoint-actions">
        <button
          type="button"
          className="button button--secondary button--small"
          aria-expanded={showLog}
          aria-controls={logId}
          onClick={() => setShowLog((open) => !open)}
        >
          {showLog ? "Hide deliveries" : "Deliveries"}
        </button>
        {canManage ? (
          <>
            <button type="button" className="button button--secondary button--small" disabled={test.isPending || !endpoint.enabled} onClick={() => test.mutate()}>
              Send a test event
            </button>
            <button
              type="button"
              className="button button--secondary button--small"
              disabled={setEnabled.isPending}
              onClick={() => setEnabled.mutate(!endpoint.enabled)}
            >
              {endpoint.enabled ? "Disable" : "Enable"}
            </button>
            <ConfirmButton
              className="button--small"
              tone="default"
              question="Make a new secret? The old one keeps signing beside it for 24 hours."
              confirmLabel="Rotate"
              onConfirm={() => rotate.mutateAsync().catch(() => undefined)}
            >
              Rotate secret
            </ConfirmButton>
            <ConfirmButton
              className="button--small"
              question={`Delete the endpoint ${endpoint.url}? No more events go there.`}
              confirmLabel="Delete"
              onConfirm={() => remove.mutateAsync().catch(() => undefined)}
            >
              Delete
            </ConfirmButton>
          </>
        ) : null}
      </div>
      {showLog ? (
        <div id={logId}>
          <DeliveryLog endpoint={endpoint} canManage={canManage} />
        </div>
      ) : null}
    </article>
  );
}

function DeliveryLog({ endpoint, canManage }: { endpoint: WebhookEndpoint; canManage: boolean }) {
  const queryClient = useQueryClient();
  const pager = useCursorPager();
  const log = useDeliveries(endpoint.id, pager.cursor);
  const [problem, setProblem] = useState<string | null>(null);
  const replay = useMutation({
    mutationFn: (delivery: WebhookDelivery) =>
      call(
        api.POST("/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay", {
          params: { path: { endpoint_id: endpoint.id, delivery_id: delivery.id } },
        }),
      ),
    onMutate: () => setProblem(null),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["webhooks", endpoint.id, "deliveries"] }),
    onError: (error) => setProblem(messageOf(error)),
  });
  const label = `Deliveries to ${endpoint.url}`;
  return (
    <div className="delivery-log">
      {problem ? (
        <div className="notice notice--error" role="alert">
          {problem}
        </div>
      ) : null}
      {log.isPending ? <Loading /> : null}
      {log.isError ? <LoadError error={log.error} retry={() => log.refetch()} /> : null}
      {log.data && log.data.items.length === 0 && pager.page === 1 ? (
        <Empty title="No delivery yet">{canManage ? <p>Send a test event to see one.</p> : null}</Empty>
      ) : null}
      {log.data && log.data.items.length ? (
        <DataTable label={label} columns={["Event", "Status", "Response", "Tries", "When"]} actions className="stack-on-phone delivery-table">
          {log.data.items.map((delivery) => {
            const [statusLabel, tone] = DELIVERY[delivery.status] ?? [delivery.status, "neutral"];
            return (
              <tr key={delivery.id}>
                <th scope="row">
                  <code>{delivery.event_type}</code>
                  {delivery.replay ? <span className="cell-note">replay {delivery.replay}</span> : null}
                </th>
                <td data-label="Status">
                  <span className={`badge badge--${tone}`}>{statusLabel}</span>
                  {delivery.error && delivery.error !== `HTTP ${delivery.response_code}` ? <span className="cell-note">{delivery.error}</span> : null}
                  {delivery.next_attempt_at && delivery.status === "retrying" ? (
                    <span className="cell-note">next try {formatRelative(delivery.next_attempt_at)}</span>
                  ) : null}
                </td>
                <td data-label="Response">
                  {delivery.response_code != null ? `HTTP ${delivery.response_code}` : "—"}
                  {delivery.latency_ms != null ? <span className="cell-note">{delivery.latency_ms} ms</span> : null}
                </td>
                <td data-label="Tries">{delivery.attempts}</td>
                <td data-label="When" className="nowrap">
                  {formatDateTime(delivery.updated_at)}
                </td>
                <td className="cell-actions">
                  {canManage && delivery.status === "dead" ? (
                    <button
                      type="button"
                      className="button button--secondary button--small"
                      disabled={replay.isPending || !endpoint.enabled}
                      title={endpoint.enabled ? undefined : "Enable the endpoint first"}
                      onClick={() => replay.mutate(delivery)}
                    >
                      Replay
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </DataTable>
      ) : null}
      <Pager
        label={`${label}: pages`}
        page={pager.page}
        hasNext={!!log.data?.next_cursor}
        onNext={() => log.data?.next_cursor && pager.next(log.data.next_cursor)}
        onPrevious={pager.previous}
      />
    </div>
  );
}
