import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { collect, useCampaigns } from "../api/queries";
import type { Campaign, CampaignStats } from "../api/types";
import { CampaignsChart, CountsChart, EMPTY_FUNNEL, FunnelChart, ShareChart, addFunnels, funnelOf, type Funnel } from "../components/charts";
import { Field } from "../components/Field";
import { Empty, LoadError, Loading, Notice } from "../components/feedback";
import { Page, Section } from "../components/Page";
import { formatNumber, formatPercent } from "../lib/format";
import { DataTable } from "../components/DataTable";

/** Failed messages read per campaign to tally the reasons (the API has no aggregate of them yet). */
const REASONS_PER_CAMPAIGN = 500;

function isoDay(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

/** The reason of a failure without what differs from one message to the next (ids, numbers), so alike
 * failures count together. */
export function reasonKey(reason: string | null | undefined): string {
  if (!reason) return "no reason given";
  return reason
    .replace(/\(missing: [^)]*\)/g, "")
    .replace(/\+?\d[\d\s-]{5,}\d/g, "…")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 120);
}

/** When a campaign counts for a date range: when it started (or was created, for one never started). */
function dayOf(campaign: Campaign): string {
  return isoDay(new Date(campaign.started_at ?? campaign.created_at));
}

async function statsOf(campaigns: Campaign[]): Promise<Map<string, CampaignStats>> {
  const out = new Map<string, CampaignStats>();
  const queue = [...campaigns];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      out.set(next.id, await call(api.GET("/api/campaigns/{campaign_id}/stats", { params: { path: { campaign_id: next.id } } })));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

async function failureReasons(campaigns: Campaign[]): Promise<{ reasons: [string, number][]; complete: boolean }> {
  const tally = new Map<string, number>();
  let complete = true;
  for (const campaign of campaigns.filter((c) => (c.counters.failed ?? 0) > 0)) {
    const result = await collect(
      (cursor) =>
        call(
          api.GET("/api/campaigns/{campaign_id}/messages", {
            params: { path: { campaign_id: campaign.id }, query: { status: "FAILED", cursor, limit: 200 } },
          }),
        ),
      REASONS_PER_CAMPAIGN,
    );
    complete &&= result.complete;
    for (const message of result.items) {
      const key = reasonKey(message.last_error);
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
  }
  return { reasons: [...tally.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10), complete };
}

export function Analytics() {
  const [from, setFrom] = useState(isoDay(new Date(Date.now() - 29 * 86_400_000)));
  const [to, setTo] = useState(isoDay(new Date()));
  const campaigns = useCampaigns();
  const inRange = useMemo(
    () => (campaigns.data?.items ?? []).filter((c) => c.status !== "draft" && dayOf(c) >= from && dayOf(c) <= to),
    [campaigns.data, from, to],
  );
  const ids = inRange.map((c) => c.id).join(",");
  const stats = useQuery({ queryKey: ["analytics", "stats", ids], queryFn: () => statsOf(inRange), enabled: !!campaigns.data });
  const reasons = useQuery({ queryKey: ["analytics", "reasons", ids], queryFn: () => failureReasons(inRange), enabled: !!campaigns.data });

  const rows = inRange
    .map((c) => ({ campaign: c, funnel: funnelOf(stats.data?.get(c.id)?.counters ?? c.counters) }))
    .sort((a, b) => dayOf(b.campaign).localeCompare(dayOf(a.campaign)));
  const total: Funnel = rows.reduce((sum, r) => addFunnels(sum, r.funnel), EMPTY_FUNNEL);
  const drivers = new Map<string, number>();
  let fallbacks = 0;
  for (const s of stats.data?.values() ?? []) {
    for (const [driver, n] of Object.entries(s.by_driver)) drivers.set(driver, (drivers.get(driver) ?? 0) + n);
    fallbacks += s.fallback_used;
  }

  return (
    <Page title="Analytics" lead="How your campaigns did: sent → delivered → read, which connection sent them, and why some failed.">
      <div className="toolbar" role="group" aria-label="Date range">
        <Field label="From">
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        </Field>
        <Field label="To">
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        </Field>
        <p className="hint">Campaigns that started in this range (in your time zone).</p>
      </div>
      {campaigns.isPending ? <Loading /> : null}
      {campaigns.isError ? <LoadError error={campaigns.error} retry={() => campaigns.refetch()} /> : null}
      {campaigns.data && inRange.length === 0 ? (
        <Empty title="No campaign ran in this range">
          <p>
            Widen the dates, or <Link to="/campaigns/new">send a campaign</Link>.
          </p>
        </Empty>
      ) : null}
      {inRange.length > 0 ? (
        <>
          <dl className="tiles tiles--wide">
            {(
              [
                ["Campaigns", inRange.length, null],
                ["Sent", total.sent, null],
                ["Delivered", total.delivered, formatPercent(total.delivered, total.sent)],
                ["Read", total.read, formatPercent(total.read, total.sent)],
                ["Failed", total.failed, null],
                ["Skipped", total.skipped, null],
              ] as const
            ).map(([label, value, rate]) => (
              <div className="tile" key={label}>
                <dt>{label}</dt>
                <dd>
                  {formatNumber(value)}
                  {rate ? <span className="tile-rate"> {rate}</span> : null}
                </dd>
              </div>
            ))}
          </dl>
          {stats.isError ? <LoadError error={stats.error} retry={() => stats.refetch()} /> : null}
          <div className="grid-2">
            <Section title="Funnel">
              <FunnelChart funnel={total} title={`All campaigns, ${from} to ${to}`} />
            </Section>
            <Section title="Primary and fallback">
              {stats.isPending ? (
                <Loading />
              ) : (
                <ShareChart title="Messages sent by each connection" shares={[...drivers.entries()]} empty="Nothing sent in this range." />
              )}
              {fallbacks ? <p className="muted">{formatNumber(fallbacks)} went through the fallback after the primary could not send.</p> : null}
            </Section>
          </div>
          <Section title="Why messages failed">
            {reasons.isPending ? <Loading label="Reading the failed messages…" /> : null}
            {reasons.isError ? <LoadError error={reasons.error} retry={() => reasons.refetch()} /> : null}
            {reasons.data ? (
              <>
                <CountsChart title="Failure reasons, most common first" counts={reasons.data.reasons} empty="No message failed in this range." />
                {reasons.data.complete ? null : <Notice>Counted from the first {REASONS_PER_CAMPAIGN} failed messages of each campaign.</Notice>}
              </>
            ) : null}
          </Section>
          <Section title="By campaign">
            <CampaignsChart rows={rows.map((r) => ({ name: r.campaign.name, funnel: r.funnel }))} />
            <DataTable label="Funnel of each campaign" columns={["Campaign", "Started", "Sent", "Delivered", "Read", "Failed", "Skipped", "Unknown"]}>
              {rows.map(({ campaign, funnel }) => (
                <tr key={campaign.id}>
                  <th scope="row">
                    <Link to={`/campaigns/${campaign.id}`}>{campaign.name}</Link>
                  </th>
                  <td className="nowrap">{dayOf(campaign)}</td>
                  <td>{formatNumber(funnel.sent)}</td>
                  <td>
                    {formatNumber(funnel.delivered)} <span className="muted">{formatPercent(funnel.delivered, funnel.sent)}</span>
                  </td>
                  <td>
                    {formatNumber(funnel.read)} <span className="muted">{formatPercent(funnel.read, funnel.sent)}</span>
                  </td>
                  <td>{formatNumber(funnel.failed)}</td>
                  <td>{formatNumber(funnel.skipped)}</td>
                  <td>{formatNumber(funnel.unknown)}</td>
                </tr>
              ))}
            </DataTable>
          </Section>
        </>
      ) : null}
    </Page>
  );
}
