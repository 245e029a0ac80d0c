import { ArcElement, BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip, type ChartOptions } from "chart.js";
import { Bar, Doughnut } from "react-chartjs-2";
import type { Counters } from "../api/types";
import { formatNumber, formatPercent } from "../lib/format";

ChartJS.register(ArcElement, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

// Colours with at least 3:1 contrast on white (WCAG 1.4.11 for graphics).
export const COLOURS = {
  sent: "#2563eb",
  delivered: "#0f766e",
  read: "#15803d",
  failed: "#b91c1c",
  skipped: "#6b7280",
  unknown: "#b45309",
  queued: "#7c3aed",
};
const PALETTE = ["#0f766e", "#2563eb", "#b45309", "#7c3aed", "#be185d", "#4b5563"];

/** The funnel of a campaign (or of many): how many were sent, then delivered, then read; and the rest. */
export interface Funnel {
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  skipped: number;
  unknown: number;
  queued: number;
}

/** Counters hold each message once, at its latest status: a read message is also delivered and sent. */
export function funnelOf(counters: Counters): Funnel {
  const read = counters.read ?? 0;
  const delivered = (counters.delivered ?? 0) + read;
  const sent = (counters.sent ?? 0) + delivered;
  return {
    sent,
    delivered,
    read,
    failed: counters.failed ?? 0,
    skipped: counters.skipped ?? 0,
    unknown: counters.unknown ?? 0,
    queued: counters.queued ?? 0,
  };
}

export function addFunnels(a: Funnel, b: Funnel): Funnel {
  return {
    sent: a.sent + b.sent,
    delivered: a.delivered + b.delivered,
    read: a.read + b.read,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
    unknown: a.unknown + b.unknown,
    queued: a.queued + b.queued,
  };
}

export const EMPTY_FUNNEL: Funnel = { sent: 0, delivered: 0, read: 0, failed: 0, skipped: 0, unknown: 0, queued: 0 };

const animation = typeof window !== "undefined" && window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ? false : undefined;

/** Bars for sent → delivered → read, then failed, skipped and unknown, with the numbers in a table too. */
export function FunnelChart({ funnel, title }: { funnel: Funnel; title: string }) {
  const rows: [string, number, string][] = [
    ["Sent", funnel.sent, COLOURS.sent],
    ["Delivered", funnel.delivered, COLOURS.delivered],
    ["Read", funnel.read, COLOURS.read],
    ["Failed", funnel.failed, COLOURS.failed],
    ["Skipped", funnel.skipped, COLOURS.skipped],
    ["Unknown", funnel.unknown, COLOURS.unknown],
  ];
  const options: ChartOptions<"bar"> = {
    indexAxis: "y",
    responsive: true,
    maintainAspectRatio: false,
    animation,
    plugins: { legend: { display: false }, tooltip: { enabled: true } },
    scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
  };
  const summary = rows.map(([label, value]) => `${label} ${value}`).join(", ");
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-canvas">
        <Bar
          role="img"
          aria-label={`${title}: ${summary}`}
          options={options}
          data={{ labels: rows.map((r) => r[0]), datasets: [{ label: "Messages", data: rows.map((r) => r[1]), backgroundColor: rows.map((r) => r[2]) }] }}
        />
      </div>
      <table className="chart-table">
        <caption className="visually-hidden">{title}</caption>
        <tbody>
          {rows.map(([label, value, colour], index) => (
            <tr key={label}>
              <th scope="row">
                <span className="swatch" style={{ background: colour }} aria-hidden="true" />
                {label}
              </th>
              <td>{formatNumber(value)}</td>
              <td className="muted">{index === 1 || index === 2 ? `${formatPercent(value, funnel.sent)} of sent` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** A doughnut of shares (the driver split, primary against fallback), with the numbers in a table. */
export function ShareChart({ title, shares, empty }: { title: string; shares: [string, number][]; empty: string }) {
  const total = shares.reduce((sum, [, n]) => sum + n, 0);
  if (!total) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="muted">{empty}</p>
      </figure>
    );
  }
  const options: ChartOptions<"doughnut"> = { responsive: true, maintainAspectRatio: false, animation, plugins: { legend: { position: "bottom" } } };
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-canvas chart-canvas--round">
        <Doughnut
          role="img"
          aria-label={`${title}: ${shares.map(([l, n]) => `${l} ${n}`).join(", ")}`}
          options={options}
          data={{ labels: shares.map((s) => s[0]), datasets: [{ data: shares.map((s) => s[1]), backgroundColor: shares.map((_, i) => PALETTE[i % PALETTE.length]) }] }}
        />
      </div>
      <table className="chart-table">
        <caption className="visually-hidden">{title}</caption>
        <tbody>
          {shares.map(([label, value], i) => (
            <tr key={label}>
              <th scope="row">
                <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
                {label}
              </th>
              <td>{formatNumber(value)}</td>
              <td className="muted">{formatPercent(value, total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Horizontal bars of counts by label (failure reasons), largest first. */
export function CountsChart({ title, counts, empty }: { title: string; counts: [string, number][]; empty: string }) {
  if (!counts.length) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="muted">{empty}</p>
      </figure>
    );
  }
  const options: ChartOptions<"bar"> = {
    indexAxis: "y",
    responsive: true,
    maintainAspectRatio: false,
    animation,
    plugins: { legend: { display: false } },
    scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { callback: (_, i) => truncate(counts[i]?.[0] ?? "", 40) } } },
  };
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-canvas" style={{ height: `${Math.max(140, counts.length * 34)}px` }}>
        <Bar
          role="img"
          aria-label={`${title}: ${counts.map(([l, n]) => `${l}: ${n}`).join("; ")}`}
          options={options}
          data={{ labels: counts.map((c) => c[0]), datasets: [{ label: "Messages", data: counts.map((c) => c[1]), backgroundColor: COLOURS.failed }] }} />
      </div>
      <table className="chart-table">
        <caption className="visually-hidden">{title}</caption>
        <tbody>
          {counts.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{formatNumber(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Stacked bars, one per campaign: read, delivered (not read), sent (not delivered), failed, skipped. */
export function CampaignsChart({ rows }: { rows: { name: string; funnel: Funnel }[] }) {
  const series: [string, (f: Funnel) => number, string][] = [
    ["Read", (f) => f.read, COLOURS.read],
    ["Delivered, not read", (f) => f.delivered - f.read, COLOURS.delivered],
    ["Sent, not delivered", (f) => f.sent - f.delivered, COLOURS.sent],
    ["Failed", (f) => f.failed, COLOURS.failed],
    ["Skipped", (f) => f.skipped, COLOURS.skipped],
    ["Unknown", (f) => f.unknown, COLOURS.unknown],
  ];
  const options: ChartOptions<"bar"> = {
    indexAxis: "y",
    responsive: true,
    maintainAspectRatio: false,
    animation,
    plugins: { legend: { position: "bottom" } },
    scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true, ticks: { callback: (_, i) => truncate(rows[i]?.name ?? "", 28) } } },
  };
  return (
    <div className="chart-canvas" style={{ height: `${Math.max(160, rows.length * 36 + 60)}px` }}>
      <Bar
        role="img"
        aria-label={`Messages of each campaign by how far they got: ${rows.map((r) => `${r.name}: ${r.funnel.read} read of ${r.funnel.sent} sent`).join("; ")}`}
        options={options}
        data={{
          labels: rows.map((r) => r.name),
          datasets: series.map(([label, pick, colour]) => ({ label, data: rows.map((r) => pick(r.funnel)), backgroundColor: colour })),
        }}
      />
    </div>
  );
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
