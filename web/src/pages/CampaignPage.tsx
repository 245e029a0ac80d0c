import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, call, download } from "../api/client";
import { messageOf } from "../api/errors";
import { keys, useCampaign, useCampaignStats, useMessages, useSenders, useTemplates } from "../api/queries";
import type { Campaign, CampaignStats, MessageStatus } from "../api/types";
import { CampaignBadge, MESSAGE_STATUSES, MessageBadge, messageStatusLabel } from "../components/Badge";
import { FunnelChart, ShareChart, funnelOf } from "../components/charts";
import { ConfirmButton } from "../components/ConfirmButton";
import { Empty, LoadError, Loading, Notice } from "../components/feedback";
import { Page, Section } from "../components/Page";
import { Pager, useCursorPager } from "../components/Pager";
import { formatDateTime, formatDuration, formatNumber, formatPercent } from "../lib/format";
import { describePolicy } from "../lib/pacing";
import { describeCron } from "../lib/schedule";
import { LIVE_STATUSES, progressOf } from "./Campaigns";
import { DataTable } from "../components/DataTable";

/** Receipts (delivered, read) keep coming after the last send: a campaign that completed recently with
 * messages still short of read is watched a while longer. */
const RECEIPTS_WINDOW_MS = 10 * 60_000;

export function isLive(campaign: Campaign, now = Date.now()): boolean {
  if (LIVE_STATUSES.has(campaign.status)) return true;
  const awaiting = (campaign.counters.sent ?? 0) + (campaign.counters.delivered ?? 0) > 0;
  const recent = !!campaign.completed_at && now - Date.parse(campaign.completed_at) < RECEIPTS_WINDOW_MS;
  return campaign.status === "completed" && awaiting && recent;
}

export function CampaignPage() {
  const { id = "" } = useParams();
  const [live, setLive] = useState(false);
  const campaign = useCampaign(id, live);
  const stats = useCampaignStats(id, live);
  const current = campaign.data;
  useEffect(() => {
    if (current) setLive(isLive(current));
  }, [current]);
  // the poll that ends the watch may come from the campaign: read its stats and messages once more, so
  // everything on the page agrees
  const queryClient = useQueryClient();
  const wasLive = useRef(false);
  useEffect(() => {
    if (wasLive.current && !live) void queryClient.invalidateQueries({ queryKey: keys.campaign(id) });
    wasLive.current = live;
  }, [live, id, queryClient]);

  if (campaign.isPending && !current) return <Loading />;
  if (campaign.isError || !current) return <LoadError error={campaign.error} retry={() => campaign.refetch()} />;
  // the fresher of the two answers gives the status and the counters
  const statsFresh = !!stats.data && stats.dataUpdatedAt >= campaign.dataUpdatedAt;
  return <CampaignView campaign={current} stats={stats.data ?? null} statsFresh={statsFresh} live={live} />;
}

function audienceText(campaign: Campaign): string {
  const a = campaign.audience;
  if (a.tags?.length) return `contacts tagged ${a.tags.join(", ")}`;
  if (a.import_batch) return `the contacts of import ${a.import_batch}`;
  return `${formatNumber(a.contact_ids?.length ?? 0)} picked contacts`;
}

function CampaignView({
  campaign,
  stats,
  statsFresh,
  live,
}: {
  campaign: Campaign;
  stats: CampaignStats | null;
  statsFresh: boolean;
  live: boolean;
}) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const senders = useSenders();
  const templates = useTemplates();
  const [problem, setProblem] = useState<string | null>(null);
  const sender = senders.data?.find((s) => s.id === campaign.sender_id);
  const template = templates.data?.find((t) => t.id === campaign.template_id);
  const path = { campaign_id: campaign.id };

  const refresh = async () => {
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.campaign(campaign.id) }),
      queryClient.invalidateQueries({ queryKey: keys.campaigns, exact: true }),
    ]);
  };
  const act = useMutation({
    mutationFn: async (action: "start" | "pause" | "resume" | "cancel" | "unschedule" | "delete") => {
      if (action === "start") return call(api.POST("/api/campaigns/{campaign_id}/start", { params: { path } }));
      if (action === "pause") return call(api.POST("/api/campaigns/{campaign_id}/pause", { params: { path } }));
      if (action === "resume") return call(api.POST("/api/campaigns/{campaign_id}/resume", { params: { path } }));
      if (action === "cancel") return call(api.POST("/api/campaigns/{campaign_id}/cancel", { params: { path } }));
      if (action === "unschedule") return call(api.DELETE("/api/campaigns/{campaign_id}/schedule", { params: { path } }));
      return call(api.DELETE("/api/campaigns/{campaign_id}", { params: { path } }));
    },
    onMutate: () => setProblem(null),
    onSuccess: async (_, action) => {
      if (action === "delete") {
        await queryClient.invalidateQueries({ queryKey: keys.campaigns });
        navigate("/campaigns");
        return;
      }
      await refresh();
    },
    onError: (error) => setProblem(messageOf(error)),
  });

  const counters = statsFresh && stats ? stats.counters : campaign.counters;
  const status = statsFresh && stats ? stats.status : campaign.status;
  const { done, total } = progressOf({ counters, audience_size: stats?.audience_size ?? campaign.audience_size });
  const etaMs = stats?.eta ? Date.parse(stats.eta) - Date.now() : null;
  const exportCsv = async () => {
    try {
      await download(`/api/campaigns/${encodeURIComponent(campaign.id)}/export`, `${campaign.name.replace(/[^\w-]+/g, "-")}-messages.csv`);
    } catch (error) {
      setProblem(messageOf(error));
    }
  };

  return (
    <Page
      title={campaign.name}
      lead={
        <>
          <CampaignBadge status={status} /> To {audienceText(campaign)} from {sender ? sender.display_name || sender.phone : "the default number"} ·{" "}
          {campaign.pacing ? describePolicy(campaign.pacing) : "the number's pace"}
        </>
      }
      actions={
        <>
          {status === "draft" ? (
            <>
              <button type="button" className="button button--primary" onClick={() => act.mutate("start")} disabled={act.isPending}>
                Send now
              </button>
              <Link className="button button--secondary" to={`/campaigns/${campaign.id}/edit`}>
                Edit
              </Link>
            </>
          ) : null}
          {status === "running" ? (
            <button type="button" className="button button--secondary" onClick={() => act.mutate("pause")} disabled={act.isPending}>
              Pause
            </button>
          ) : null}
          {status === "paused" ? (
            <button type="button" className="button button--primary" onClick={() => act.mutate("resume")} disabled={act.isPending}>
              Resume
            </button>
          ) : null}
          {status === "scheduled" ? (
            <button type="button" className="button button--secondary" onClick={() => act.mutate("unschedule")} disabled={act.isPending}>
              Unschedule
            </button>
          ) : null}
          {status === "running" || status === "paused" || status === "scheduled" ? (
            <ConfirmButton question="Cancel? Messages not sent yet are skipped." confirmLabel="Cancel campaign" onConfirm={() => act.mutateAsync("cancel")}>
              Cancel campaign
            </ConfirmButton>
          ) : null}
          {status !== "draft" ? (
            <button type="button" className="button button--secondary" onClick={exportCsv}>
              Export CSV
            </button>
          ) : null}
          {status === "draft" || status === "completed" || status === "cancelled" || status === "failed" ? (
            <ConfirmButton question="Delete this campaign?" confirmLabel="Delete" onConfirm={() => act.mutateAsync("delete")}>
              Delete
            </ConfirmButton>
          ) : null}
        </>
      }
    >
      {problem ? (
        <div className="notice notice--error" role="alert">
          {problem}
        </div>
      ) : null}
      {campaign.failure_reason ? <Notice tone="error">This campaign failed: {campaign.failure_reason}</Notice> : null}
      {status === "paused" && campaign.pause_reason ? (
        <Notice tone="warning">
          Paused: {campaign.pause_reason}
          {campaign.paused_by === "governor" ? ". It resumes by itself when its number's cooling down ends (see Numbers)." : "."}
        </Notice>
      ) : null}
      {campaign.schedule ? (
        <Notice tone="info">
          {campaign.schedule.kind === "once" || campaign.schedule.send_at
            ? `Scheduled for ${formatDateTime(campaign.schedule.send_at ?? null)} (${campaign.schedule.timezone}).`
            : `Runs ${describeCron(campaign.schedule.expression)} (${campaign.schedule.timezone})${campaign.schedule.end ? `, until ${formatDateTime(campaign.schedule.end)}` : ""}.`}
        </Notice>
      ) : null}

      <section className="card" aria-labelledby="progress-title">
        <h2 id="progress-title">Progress</h2>
        <div className="progress-block">
          <progress max={total || 1} value={done} aria-labelledby="progress-label" />
          <p id="progress-label" className="progress-label" aria-live="polite">
            <strong>{formatNumber(done)}</strong> of {formatNumber(total)} done ({formatPercent(done, total)})
            {status === "running" && etaMs !== null && done < total
              ? ` · about ${formatDuration(Math.max(0, etaMs))} left, until ${new Date(stats?.eta ?? "").toLocaleTimeString()}`
              : ""}
            {status === "paused" ? " · paused: nothing is sent until you resume" : ""}
            {status === "completed" ? ` · completed ${formatDateTime(campaign.completed_at)}` : ""}
            {live ? <span className="live-dot" title="Updating live" /> : null}
          </p>
        </div>
        <dl className="tiles">
          {(
            [
              ["Waiting", counters.queued],
              ["Sent", counters.sent],
              ["Delivered", counters.delivered],
              ["Read", counters.read],
              ["Failed", counters.failed],
              ["Skipped", counters.skipped],
              ["Unknown", counters.unknown],
              ["Replied", stats?.replied ?? 0],
            ] as const
          ).map(([label, value]) => (
            <div className="tile" key={label}>
              <dt>{label}</dt>
              <dd>{formatNumber(value)}</dd>
            </div>
          ))}
        </dl>
        <p className="hint">
          Each message is counted once, at its latest state: a read message is no longer counted as delivered. Skipped: opted out or cancelled.
          Unknown: the send may have reached WhatsApp, so it is never repeated. Replied: messages their recipient answered (see
          Conversations).
        </p>
      </section>

      <div className="grid-2">
        <section className="card" aria-labelledby="funnel-title">
          <h2 id="funnel-title">Funnel</h2>
          <FunnelChart funnel={funnelOf(counters)} title="Sent → delivered → read" />
        </section>
        <section className="card" aria-labelledby="drivers-title">
          <h2 id="drivers-title">Connections used</h2>
          <ShareChart
            title="Messages sent by each connection"
            shares={Object.entries(stats?.by_driver ?? {})}
            empty="Nothing sent yet."
          />
          {stats && stats.fallback_used ? (
            <p className="muted">{formatNumber(stats.fallback_used)} sent through the fallback after the primary could not.</p>
          ) : null}
        </section>
      </div>

      <Section title="Message">
        {campaign.template_id ? <p className="muted">Template: {template ? <Link to={`/templates/${template.id}`}>{template.name}</Link> : campaign.template_id}</p> : null}
        <p className="template-body">{campaign.body ?? template?.body ?? ""}</p>
      </Section>

      {status !== "draft" ? <MessageList campaignId={campaign.id} live={live} /> : null}
    </Page>
  );
}

function MessageList({ campaignId, live }: { campaignId: string; live: boolean }) {
  const [status, setStatus] = useState<MessageStatus | null>(null);
  const pager = useCursorPager();
  const messages = useMessages(campaignId, status, pager.cursor, live);
  const choose = (next: MessageStatus | null) => {
    setStatus(next);
    pager.reset();
  };
  return (
    <Section title="Messages" id="messages">
      <div className="filter-tabs" role="group" aria-label="Show messages">
        <button type="button" className="chip" aria-pressed={status === null} onClick={() => choose(null)}>
          All
        </button>
        {MESSAGE_STATUSES.map((s) => (
          <button key={s} type="button" className="chip" aria-pressed={status === s} onClick={() => choose(s)}>
            {messageStatusLabel(s)}
          </button>
        ))}
      </div>
      {messages.isPending ? <Loading /> : null}
      {messages.isError ? <LoadError error={messages.error} retry={() => messages.refetch()} /> : null}
      {messages.data && messages.data.items.length === 0 ? <Empty title={status ? `No ${messageStatusLabel(status).toLowerCase()} message` : "No message yet"} /> : null}
      {messages.data && messages.data.items.length ? (
        <DataTable label="Messages of this campaign" columns={["To", "Status", "Message", "Connection", "Why / detail", "Updated"]} className="stack-on-phone">
          {messages.data.items.map((m) => (
            <tr key={m.id}>
              <th scope="row" className="nowrap">
                {m.phone}
              </th>
              <td data-label="Status">
                <MessageBadge status={m.status} />
              </td>
              <td data-label="Message" className="message-text">{m.body || <span className="muted">—</span>}</td>
              <td data-label="Connection">
                {m.driver ?? "—"}
                {m.fallback_used ? <span className="cell-note">fallback</span> : null}
                {m.attempts > 1 ? <span className="cell-note">{m.attempts} attempts</span> : null}
              </td>
              <td data-label="Detail" className="reason">{m.last_error ?? m.history?.[m.history.length - 1]?.detail ?? ""}</td>
              <td data-label="Updated" className="nowrap">{formatDateTime(m.updated_at)}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {messages.data ? (
        <Pager
          label="Message pages"
          page={pager.page}
          hasNext={!!messages.data.next_cursor}
          onNext={() => messages.data?.next_cursor && pager.next(messages.data.next_cursor)}
          onPrevious={pager.previous}
        />
      ) : null}
    </Section>
  );
}
