/**
 * Recurring runs in words, turned into the five-field cron expression the API takes
 * (`POST /api/campaigns/{id}/schedule {"cron", "timezone", "end"}`), and back.
 */

export type Frequency = "daily" | "weekdays" | "weekly" | "monthly";
export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export interface Recurrence {
  frequency: Frequency;
  /** "09:30" */
  time: string;
  /** 0 = Sunday (weekly) */
  weekday: number;
  /** 1-28 (monthly) */
  dayOfMonth: number;
}

export function toCron(r: Recurrence): string {
  const [hour = "9", minute = "0"] = r.time.split(":");
  const hm = `${Number(minute)} ${Number(hour)}`;
  switch (r.frequency) {
    case "daily":
      return `${hm} * * *`;
    case "weekdays":
      return `${hm} * * 1-5`;
    case "weekly":
      return `${hm} * * ${r.weekday}`;
    case "monthly":
      return `${hm} ${r.dayOfMonth} * *`;
  }
}

/** "every weekday at 09:00" for the crons toCron writes; the expression itself for any other. */
export function describeCron(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return expression;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (!/^\d+$/.test(minute) || !/^\d+$/.test(hour) || month !== "*") return expression;
  const at = `${hour.padStart(2, "0")}:${minute.padStart(2, "0")}`;
  if (dom === "*" && dow === "*") return `every day at ${at}`;
  if (dom === "*" && dow === "1-5") return `every weekday at ${at}`;
  if (dom === "*" && /^[0-6]$/.test(dow)) return `every ${WEEKDAYS[Number(dow)]} at ${at}`;
  if (/^\d+$/.test(dom) && dow === "*") return `on day ${dom} of every month at ${at}`;
  return expression;
}

/** Minutes `timeZone` is ahead of UTC at the instant `utcMs`. */
export function zoneOffsetMinutes(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  })
    .formatToParts(new Date(utcMs))
    .reduce<Record<string, number>>((acc, p) => (p.type === "literal" ? acc : { ...acc, [p.type]: Number(p.value) }), {});
  const asUtc = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/**
 * The instant a wall-clock `date` + `time` is in `timeZone`, written with its UTC offset, as the API wants
 * `send_at` ("2026-12-01T09:00:00+05:30"). A time skipped by a DST change moves forward with the clocks.
 */
export function zonedIso(date: string, time: string, timeZone: string): string {
  const [y = 1970, mo = 1, d = 1] = date.split("-").map(Number);
  const [h = 0, mi = 0] = time.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let offset = zoneOffsetMinutes(wall, timeZone);
  offset = zoneOffsetMinutes(wall - offset * 60_000, timeZone);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  const local = new Date(wall);
  const pad = (n: number) => String(n).padStart(2, "0");
  const shown = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:00`;
  return `${shown}${sign}${hh}:${mm}`;
}
