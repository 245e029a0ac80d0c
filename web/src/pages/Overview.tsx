import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { contactsPage, useCampaigns, useSenders, useTemplates } from "../api/queries";
import { useSession } from "../auth/useSession";
import { SenderBadge } from "../components/Badge";
import { LoadError, Loading } from "../components/feedback";
import { Page, Section } from "../components/Page";
import { formatNumber, formatPercent } from "../lib/format";
import { CampaignTable, LIVE_STATUSES } from "./Campaigns";

/** The start page: what to do next for a new account, then the numbers, the latest campaigns and totals. */
export function Overview() {
  const session = useSession();
  const senders = useSenders();
  const templates = useTemplates();
  const campaigns = useCampaigns();
  const polled = useCampaigns(campaigns.data?.items.some((c) => LIVE_STATUSES.has(c.status)) ?? false);
  const contacts = useQuery({ queryKey: ["contacts", "first"], queryFn: () => contactsPage({}, undefined, 1) });
  const totals = useQuery({ queryKey: ["queue-stats", "account"], queryFn: () => call(api.GET("/api/messages/queue/stats")) });

  const steps = [
    {
      done: senders.data?.some((s) => s.status.state === "connected") ?? false,
      title: "Link your WhatsApp number",
      to: "/numbers",
      action: "Go to Numbers",
    },
    { done: (contacts.data?.items.length ?? 0) > 0, title: "Import your contacts", to: "/contacts/import", action: "Import a CSV" },
    { done: templates.data?.some((t) => !t.builtin) ?? false, title: "Write a message template", to: "/templates/new", action: "New template" },
    { done: (campaigns.data?.items.length ?? 0) > 0, title: "Send your first campaign", to: "/campaigns/new", action: "New campaign" },
  ];
  const allDone = steps.every((s) => s.done);
  const recent = [...(polled.data?.items ?? campaigns.data?.items ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, 5);
  const account = totals.data?.account;
  const reached = account ? (account.sent ?? 0) + (account.delivered ?? 0) + (account.read ?? 0) : 0;

  return (
    <Page title={`Welcome${session ? `, ${session.account.name}` : ""}`} lead="Your campaigns at a glance.">
      {!allDone && !(senders.isPending || campaigns.isPending) ? (
        <Section title="Get started">
          <ol className="checklist">
            {steps.map((step) => (
              <li key={step.title} className={step.done ? "done" : undefined}>
                <span className="check-mark" aria-hidden="true">
                  {step.done ? "✓" : ""}
                </span>
                <span className="check-title">
                  {step.title}
                  <span className="visually-hidden">{step.done ? " (done)" : " (to do)"}</span>
                </span>
                {!step.done ? (
                  <Link className="button button--secondary button--small" to={step.to}>
                    {step.action}
                  </Link>
                ) : null}
              </li>
            ))}
          </ol>
        </Section>
      ) : null}

      <div className="grid-2">
        <Section title="Numbers" actions={<Link to="/numbers">Manage</Link>}>
          {senders.isPending ? <Loading /> : null}
          {senders.isError ? <LoadError error={senders.error} retry={() => senders.refetch()} /> : null}
          <ul className="plain-list">
            {senders.data?.map((s) => (
              <li key={s.id}>
                <span>{s.display_name || s.phone}</span> <SenderBadge state={s.status.state} />
              </li>
            ))}
          </ul>
        </Section>
        <Section title="All messages">
          {account ? (
            <dl className="tiles">
              <div className="tile">
                <dt>Sent</dt>
                <dd>{formatNumber(reached)}</dd>
              </div>
              <div className="tile">
                <dt>Read</dt>
                <dd>
                  {formatNumber(account.read)} <span className="tile-rate">{formatPercent(account.read ?? 0, reached)}</span>
                </dd>
              </div>
              <div className="tile">
                <dt>Failed</dt>
                <dd>{formatNumber(account.failed)}</dd>
              </div>
              <div className="tile">
                <dt>Waiting</dt>
                <dd>{formatNumber(account.queued)}</dd>
              </div>
            </dl>
          ) : totals.isError ? (
            <LoadError error={totals.error} />
          ) : (
            <Loading />
          )}
          <p>
            <Link to="/analytics">See analytics</Link>
          </p>
        </Section>
      </div>

      <Section title="Latest campaigns" actions={<Link to="/campaigns">All campaigns</Link>}>
        {campaigns.isPending ? <Loading /> : null}
        {recent.length ? (
          <CampaignTable campaigns={recent} />
        ) : campaigns.data ? (
          <p className="muted">
            No campaign yet. <Link to="/campaigns/new">Create one</Link>.
          </p>
        ) : null}
      </Section>
    </Page>
  );
}
