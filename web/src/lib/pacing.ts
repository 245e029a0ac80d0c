import type { PacingPolicy, PacingPreset } from "../api/types";

/**
 * Pacing in plain language: how long a campaign will take and how risky its pace is for the number.
 *
 * The estimate follows the planner's rules (layers/common/wacast/domain/pacing.py: gaps drawn between a
 * min and a max, a pause every N messages, a daily cap with an optional warm-up ramp, a sending window),
 * with the presets' documented base gaps (DELAY_FAST/BALANCED/SAFE: 2, 5 and 10 s, up to 50% jitter on
 * top). A deployment may change those; once a campaign runs, its page shows the API's own ETA.
 */

export const PRESET_BASE_MS: Record<Exclude<PacingPreset, "custom">, number> = {
  fast: 2000,
  balanced: 5000,
  safe: 10000,
};
const JITTER = 0.5;
const DAY_MS = 86_400_000;

export function gapBounds(policy: PacingPolicy): [number, number] {
  const preset = policy.preset ?? "balanced";
  const base = preset === "custom" ? 0 : PRESET_BASE_MS[preset];
  const low = policy.min_gap_ms ?? base;
  const high = policy.max_gap_ms ?? Math.max(low, Math.round(low * (1 + JITTER)));
  return [low, Math.max(low, high)];
}

/** A campaign's policy made no faster than its sender's (the sender's floor), as the API applies it. */
export function withinFloor(policy: PacingPolicy, floor: PacingPolicy | null | undefined): PacingPolicy {
  if (!floor) return policy;
  const [low, high] = gapBounds(policy);
  const [floorLow, floorHigh] = gapBounds(floor);
  const caps = [policy.daily_cap, floor.daily_cap].filter((c): c is number => typeof c === "number");
  const pauses = [policy.pause_every, floor.pause_every].filter((n): n is number => typeof n === "number");
  const out: PacingPolicy = {
    ...policy,
    daily_cap: caps.length ? Math.min(...caps) : null,
    pause_every: pauses.length ? Math.min(...pauses) : null,
    pause_ms: floor.pause_every ? Math.max(policy.pause_ms ?? 60_000, floor.pause_ms ?? 60_000) : policy.pause_ms,
  };
  if (low < floorLow) {
    return { ...out, preset: "custom", min_gap_ms: floorLow, max_gap_ms: Math.max(high, floorHigh) };
  }
  return out;
}

function capForDay(policy: PacingPolicy, senderAgeDays: number): number | null {
  if (!policy.warmup) return policy.daily_cap ?? null;
  const ramp = Math.floor((policy.warmup.start_cap ?? 20) * (policy.warmup.growth ?? 1.5) ** Math.max(0, senderAgeDays));
  return policy.daily_cap == null ? ramp : Math.min(ramp, policy.daily_cap);
}

function timeToMinutes(value: string | undefined, fallback: string): number {
  const [h, m] = (value ?? fallback).split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Minutes since local midnight in `timeZone` at `at`. */
export function minutesInZone(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(at)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return Number(parts.hour) * 60 + Number(parts.minute);
}

export interface Estimate {
  /** From now to the last send. */
  ms: number;
  /** Calendar days the sends spread over (1 when they all fit today). */
  days: number;
  /** What stretches the run beyond its gaps. */
  limitedBy: ("daily cap" | "sending window" | "warm-up")[];
  /** The window is closed now: the first send waits this long. */
  waitMs: number;
}

/** How long `count` messages take under `policy` (from `now`, for a sender `senderAgeDays` old). */
export function estimate(policy: PacingPolicy, count: number, now = new Date(), senderAgeDays = 30): Estimate {
  const [low, high] = gapBounds(policy);
  const avg = (low + high) / 2;
  const pauseEvery = policy.pause_every ?? null;
  const pauseMs = policy.pause_ms ?? 60_000;
  const runMs = (n: number) => (n <= 0 ? 0 : (n - 1) * avg + (pauseEvery ? Math.floor((n - 1) / pauseEvery) * pauseMs : 0));
  const limitedBy = new Set<Estimate["limitedBy"][number]>();
  if (count <= 0) return { ms: 0, days: 0, limitedBy: [], waitMs: 0 };

  let windowMs = DAY_MS;
  let waitMs = 0;
  let leftToday = DAY_MS;
  const window = policy.window;
  if (window) {
    const start = timeToMinutes(window.start, "09:00");
    const end = timeToMinutes(window.end, "20:00");
    const length = (end - start + 1440) % 1440 || 1440;
    windowMs = length * 60_000;
    const nowMinutes = minutesInZone(now, window.timezone ?? "UTC");
    const sinceStart = (nowMinutes - start + 1440) % 1440;
    if (sinceStart < length) {
      leftToday = (length - sinceStart) * 60_000;
    } else {
      waitMs = (1440 - sinceStart) * 60_000;
      leftToday = windowMs;
    }
  }
  const fits = (ms: number) => {
    if (avg <= 0) return Number.MAX_SAFE_INTEGER;
    let n = Math.max(1, Math.floor(ms / avg) + 1);
    while (n > 1 && runMs(n) > ms) n -= 1;
    return n;
  };

  let remaining = count;
  let day = 0;
  let elapsed = waitMs;
  for (; remaining > 0 && day < 3650; day += 1) {
    const cap = capForDay(policy, senderAgeDays + day);
    const byWindow = fits(day === 0 ? leftToday : windowMs);
    let today = Math.min(remaining, byWindow, cap ?? Number.MAX_SAFE_INTEGER);
    if (cap != null && cap < remaining && cap <= byWindow) limitedBy.add(policy.warmup ? "warm-up" : "daily cap");
    if (window && byWindow < remaining && (cap == null || byWindow < cap)) limitedBy.add("sending window");
    today = Math.max(today, 0);
    remaining -= today;
    if (remaining <= 0) {
      elapsed += runMs(today);
    } else {
      // the next day's sends start when the window opens again (or a day after these began)
      elapsed += day === 0 && window ? leftToday + (DAY_MS - windowMs) : DAY_MS;
    }
  }
  return { ms: elapsed, days: day, limitedBy: [...limitedBy], waitMs };
}

export type Risk = "high" | "elevated" | "moderate" | "low";

export interface RiskReading {
  level: Risk;
  headline: string;
  reasons: string[];
}

/** How likely this pace is to get the number banned, and why, in words a shop owner can act on. */
export function assessRisk(policy: PacingPolicy, count: number, senderAgeDays?: number): RiskReading {
  const [low, high] = gapBounds(policy);
  const avgSeconds = (low + high) / 2000;
  const reasons: string[] = [];
  let level: Risk;
  if (avgSeconds < 5) {
    level = "high";
    reasons.push(
      `About ${formatSeconds(avgSeconds)} between messages is a machine-like burst. Numbers sending like this to people who have not saved them are often banned after a few dozen messages.`,
    );
  } else if (avgSeconds < 20) {
    level = "elevated";
    reasons.push(
      `About ${formatSeconds(avgSeconds)} between messages suits customers who know you and saved your number. For a cold list, experienced senders wait 30–60 s.`,
    );
  } else if (avgSeconds < 45) {
    level = "moderate";
    reasons.push(`About ${formatSeconds(avgSeconds)} between messages is close to what experienced senders use for cold lists (30–60 s).`);
  } else {
    level = "low";
    reasons.push(`About ${formatSeconds(avgSeconds)} between messages: a human pace.`);
  }
  if (high <= low) reasons.push("Every gap is the same length, which looks automated: give a maximum above the minimum.");
  if (!policy.pause_every && count > 50) reasons.push("No breaks: a pause every few dozen messages looks more natural.");
  if (!policy.daily_cap && !policy.warmup && count > 200)
    reasons.push("No daily cap: hundreds of messages in one day from one number is what WhatsApp watches for.");
  if (!policy.window && count > 20) reasons.push("No sending window: messages at night annoy people, and annoyed people report you.");
  if (senderAgeDays !== undefined && senderAgeDays < 10 && !policy.warmup)
    reasons.push("This number was added recently: a warm-up ramp (a small daily cap that grows) protects a new number.");
  const extras = reasons.length - 1;
  if (level === "low" && extras >= 2) level = "moderate";
  if (level === "moderate" && extras >= 3) level = "elevated";
  const headline = {
    high: "High ban risk",
    elevated: "Some ban risk",
    moderate: "Moderate ban risk",
    low: "Low ban risk",
  }[level];
  return { level, headline, reasons };
}

/** One line describing a policy: "5–7.5 s apart, a 60 s break every 50, at most 200 a day, 09:00–20:00 Asia/Kolkata". */
export function describePolicy(policy: PacingPolicy | null | undefined): string {
  if (!policy) return "the sender's pace";
  const [low, high] = gapBounds(policy);
  const parts = [low === high ? `${formatSeconds(low / 1000)} apart` : `${formatSeconds(low / 1000)}–${formatSeconds(high / 1000)} apart`];
  if (policy.pause_every) parts.push(`a ${formatSeconds((policy.pause_ms ?? 60_000) / 1000)} break every ${policy.pause_every}`);
  if (policy.daily_cap) parts.push(`at most ${policy.daily_cap} a day`);
  if (policy.warmup) parts.push(`warm-up from ${policy.warmup.start_cap ?? 20} a day`);
  if (policy.window) {
    parts.push(`${(policy.window.start ?? "09:00").slice(0, 5)}–${(policy.window.end ?? "20:00").slice(0, 5)} ${policy.window.timezone ?? "UTC"}`);
  }
  return parts.join(", ");
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1).replace(/\.0$/, "")} s`;
  const minutes = seconds / 60;
  return `${Number.isInteger(minutes) ? minutes : minutes.toFixed(1)} min`;
}
