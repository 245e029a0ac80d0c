import { Link } from "react-router";
import { useCampaigns } from "../api/queries";
import type { Campaign } from "../api/types";
import { CampaignBadge } from "../components/Badge";
import { Empty, LoadError, Loading } from "../components/feedback";
import { Page } from "../components/Page";
import { formatDateTime, formatNumber } from "../lib/format";
import { DataTable } from "../components/DataTable";

export const LIVE_STATUSES = new Set(["running", "paused", "scheduled"]);

/** Messages a campaign is done with (sent at least, failed, skipped or unknown) out of its audience. */
export function progressOf(campaign: Pick<Campaign, "counters" | "audience_size">): { done: number; total: number } {
  const c = campaign.counters;
  const done = (c.sent ?? 0) + (c.delivered ?? 0) + (c.read ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0) + (c.unknown ?? 0);
  const total = Math.max(campaign.audience_size, c.total ?? 0, done);
  return { done, total };
}

export function Campaigns() {
  const campaigns = useCampaigns();
  const live = campaigns.data?.items.some((c) => LIVE_STATUSES.has(c.status)) ?? false;
  const polled = useCampaigns(live);
  const list = polled.data?.items ?? campaigns.data?.items ?? [];
  const sorted = [...list].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <Page
      title="Campaigns"
      lead="Each campaign sends one message to an audience, at a safe pace."
      actions={
        <Link className="button button--primary" to="/campaigns/new">
          New campaign
        </Link>
      }
    >
      {campaigns.isPending ? <Loading /> : null}
      {campaigns.isError ? <LoadError error={campaigns.error} retry={() => campaigns.refetch()} /> : null}
      {campaigns.data && sorted.length === 0 ? (
        <Empty title="No campaign yet">
          <p>
            <Link to="/campaigns/new">Create your first campaign</Link>: choose who gets it, write the message, pick a pace and send.
          </p>
        </Empty>
      ) : null}
      {sorted.length ? <CampaignTable campaigns={sorted} /> : null}
    </Page>
  );
}

export function CampaignTable({ campaigns }: { campaigns: Campaign[] }) {
  return (
    <DataTable label="Campaigns" columns={["Name", "Status", "Progress", "Read", "Failed", "Created"]} className="stack-on-phone">
      {campaigns.map((c) => {
        const { done, total } = progressOf(c);
        return (
          <tr key={c.id}>
            <th scope="row">
              <Link to={`/campaigns/${c.id}`}>{c.name}</Link>
            </th>
            <td data-label="Status">
              <CampaignBadge status={c.status} />
            </td>
            <td data-label="Progress">
              <div className="mini-progress">
                <progress max={total || 1} value={done} aria-label={`${c.name}: ${done} of ${total} done`} />
                <span>
                  {formatNumber(done)} / {formatNumber(total)}
                </span>
              </div>
            </td>
            <td data-label="Read">{formatNumber(c.counters.read)}</td>
            <td data-label="Failed">{formatNumber(c.counters.failed)}</td>
            <td data-label="Created" className="nowrap">{formatDateTime(c.created_at)}</td>
          </tr>
        );
      })}
    </DataTable>
  );
}
