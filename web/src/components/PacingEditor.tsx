import { useId } from "react";
import type { PacingPolicy, PacingPreset } from "../api/types";
import { formatDuration, timeZones } from "../lib/format";
import { PRESET_BASE_MS, assessRisk, describePolicy, estimate, formatSeconds, gapBounds, withinFloor } from "../lib/pacing";
import { Choices, Field } from "./Field";

const PRESETS: { value: Exclude<PacingPreset, "custom">; label: string }[] = [
  { value: "safe", label: "Safe" },
  { value: "balanced", label: "Balanced" },
  { value: "fast", label: "Fast" },
];

function presetGaps(preset: Exclude<PacingPreset, "custom">): string {
  const [low, high] = gapBounds({ preset });
  return `${formatSeconds(low / 1000)}–${formatSeconds(high / 1000)} between messages`;
}

const toSeconds = (ms: number | null | undefined) => (ms == null ? "" : String(ms / 1000));
const toMs = (seconds: string) => (seconds.trim() === "" ? null : Math.round(Number(seconds) * 1000));
const toInt = (value: string) => (value.trim() === "" ? null : Math.round(Number(value)));

interface PacingEditorProps {
  /** The policy; null means "the sender's own pace" (campaigns only: `allowInherit`). */
  value: PacingPolicy | null;
  onChange: (value: PacingPolicy | null) => void;
  /** The API's message for a field of the policy (`pacing.min_gap_ms` -> of("min_gap_ms")). */
  errorOf?: (field: string) => string | undefined;
  allowInherit?: boolean;
  /** The sender's policy: a campaign is never faster than it. */
  floor?: PacingPolicy | null;
  /** Messages the estimate is for. */
  count?: number | null;
  senderAgeDays?: number;
  legend?: string;
}

/** A pacing policy: a preset or custom gaps, breaks, a daily cap, a warm-up ramp and a sending window,
 * with the ban risk and the duration it gives, in words. */
export function PacingEditor({ value, onChange, errorOf = () => undefined, allowInherit, floor, count, senderAgeDays, legend = "Pace" }: PacingEditorProps) {
  const id = useId();
  const choice: PacingPreset | "inherit" = value === null ? "inherit" : (value.preset ?? "balanced");
  const policy: PacingPolicy = value ?? floor ?? { preset: "balanced" };
  const set = (changes: Partial<PacingPolicy>) => onChange({ ...policy, ...changes });
  const effective = withinFloor(policy, value === null ? null : floor);
  const slowedByFloor = value !== null && floor && gapBounds(effective)[0] > gapBounds(policy)[0];

  const pick = (next: PacingPreset | "inherit") => {
    if (next === "inherit") return onChange(null);
    if (next === "custom") {
      const [low, high] = gapBounds(policy);
      return onChange({ ...policy, preset: "custom", min_gap_ms: low, max_gap_ms: high });
    }
    return onChange({ ...policy, preset: next, min_gap_ms: null, max_gap_ms: null });
  };

  return (
    <div className="pacing">
      <Choices legend={legend} error={errorOf("preset")}>
        <div className="preset-grid">
          {allowInherit ? (
            <label className={`preset${choice === "inherit" ? " preset--on" : ""}`}>
              <input type="radio" name={`${id}-preset`} checked={choice === "inherit"} onChange={() => pick("inherit")} />
              <span className="preset-name">The number's pace</span>
              <span className="preset-detail">{describePolicy(floor)}</span>
            </label>
          ) : null}
          {PRESETS.map((preset) => (
            <label key={preset.value} className={`preset${choice === preset.value ? " preset--on" : ""}`}>
              <input type="radio" name={`${id}-preset`} checked={choice === preset.value} onChange={() => pick(preset.value)} />
              <span className="preset-name">
                {preset.label}
                {preset.value === "safe" ? <span className="preset-tag">recommended</span> : null}
              </span>
              <span className="preset-detail">{presetGaps(preset.value)}</span>
            </label>
          ))}
          <label className={`preset${choice === "custom" ? " preset--on" : ""}`}>
            <input type="radio" name={`${id}-preset`} checked={choice === "custom"} onChange={() => pick("custom")} />
            <span className="preset-name">Custom</span>
            <span className="preset-detail">your own gaps, e.g. 30–60 s for a cold list</span>
          </label>
        </div>
      </Choices>

      {value !== null && choice === "custom" ? (
        <div className="row">
          <Field label="Shortest gap (seconds)" error={errorOf("min_gap_ms")}>
            <input type="number" min={0} step="0.1" inputMode="decimal" value={toSeconds(policy.min_gap_ms)} onChange={(e) => set({ min_gap_ms: toMs(e.target.value) })} />
          </Field>
          <Field label="Longest gap (seconds)" error={errorOf("max_gap_ms")} hint="Each gap is drawn at random in between.">
            <input type="number" min={0} step="0.1" inputMode="decimal" value={toSeconds(policy.max_gap_ms)} onChange={(e) => set({ max_gap_ms: toMs(e.target.value) })} />
          </Field>
        </div>
      ) : null}

      {value !== null ? (
        <details className="limits" open={!!(policy.pause_every || policy.daily_cap || policy.window || policy.warmup)}>
          <summary>Breaks, daily cap, warm-up and sending hours</summary>
          <div className="row">
            <Field label="Take a break every (messages)" error={errorOf("pause_every")} hint="Empty: no breaks.">
              <input type="number" min={1} inputMode="numeric" value={policy.pause_every ?? ""} onChange={(e) => set({ pause_every: toInt(e.target.value) })} />
            </Field>
            <Field label="Break length (seconds)" error={errorOf("pause_ms")}>
              <input type="number" min={0} inputMode="numeric" value={toSeconds(policy.pause_ms ?? 60_000)} onChange={(e) => set({ pause_ms: toMs(e.target.value) ?? 0 })} />
            </Field>
            <Field label="Daily cap (messages)" error={errorOf("daily_cap")} hint="Empty: no cap.">
              <input type="number" min={1} inputMode="numeric" value={policy.daily_cap ?? ""} onChange={(e) => set({ daily_cap: toInt(e.target.value) })} />
            </Field>
          </div>
          <div className="check">
            <input
              id={`${id}-warmup`}
              type="checkbox"
              checked={!!policy.warmup}
              onChange={(e) => set({ warmup: e.target.checked ? { start_cap: 20, growth: 1.5 } : null })}
            />
            <label htmlFor={`${id}-warmup`}>Warm up a new number: start with a small daily cap that grows every day</label>
          </div>
          {policy.warmup ? (
            <div className="row">
              <Field label="First day's cap" error={errorOf("warmup.start_cap")}>
                <input type="number" min={1} value={policy.warmup.start_cap ?? 20} onChange={(e) => set({ warmup: { ...policy.warmup, start_cap: toInt(e.target.value) ?? 1 } })} />
              </Field>
              <Field label="Growth per day (×)" error={errorOf("warmup.growth")}>
                <input type="number" min={1} max={10} step="0.1" value={policy.warmup.growth ?? 1.5} onChange={(e) => set({ warmup: { ...policy.warmup, growth: Number(e.target.value) || 1 } })} />
              </Field>
            </div>
          ) : null}
          <div className="check">
            <input
              id={`${id}-window`}
              type="checkbox"
              checked={!!policy.window}
              onChange={(e) =>
                set({ window: e.target.checked ? { start: "09:00", end: "20:00", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" } : null })
              }
            />
            <label htmlFor={`${id}-window`}>Send only during these hours</label>
          </div>
          {policy.window ? (
            <div className="row">
              <Field label="From" error={errorOf("window.start")}>
                <input type="time" value={(policy.window.start ?? "09:00").slice(0, 5)} onChange={(e) => set({ window: { ...policy.window, start: e.target.value } })} />
              </Field>
              <Field label="Until" error={errorOf("window.end")}>
                <input type="time" value={(policy.window.end ?? "20:00").slice(0, 5)} onChange={(e) => set({ window: { ...policy.window, end: e.target.value } })} />
              </Field>
              <Field label="Time zone" error={errorOf("window.timezone") ?? errorOf("window")}>
                <select value={policy.window.timezone ?? "UTC"} onChange={(e) => set({ window: { ...policy.window, timezone: e.target.value } })}>
                  {timeZones().map((zone) => (
                    <option key={zone}>{zone}</option>
                  ))}
                </select>
              </Field>
            </div>
          ) : null}
        </details>
      ) : null}

      <PacingExplanation policy={effective} count={count ?? null} senderAgeDays={senderAgeDays} />
      {slowedByFloor ? (
        <p className="hint">This number&apos;s own pace is slower ({describePolicy(floor)}): the campaign goes at that pace, never faster.</p>
      ) : null}
    </div>
  );
}

/** The ban risk of a pace and how long `count` messages take at it, in plain words. */
export function PacingExplanation({ policy, count, senderAgeDays }: { policy: PacingPolicy; count: number | null; senderAgeDays?: number | undefined }) {
  const risk = assessRisk(policy, count ?? 0, senderAgeDays);
  const time = count ? estimate(policy, count, new Date(), senderAgeDays ?? 30) : null;
  return (
    <div className={`risk risk--${risk.level}`} aria-live="polite">
      <p className="risk-headline">
        <strong>{risk.headline}</strong> · {describePolicy(policy)}
      </p>
      <ul>
        {risk.reasons.map((reason) => (
          <li key={reason}>{reason}</li>
        ))}
      </ul>
      {time ? (
        <p className="risk-estimate">
          {count} message{count === 1 ? "" : "s"} take about <strong>{formatDuration(time.ms)}</strong>
          {time.days > 1 ? ` over ${time.days} days` : ""}
          {time.limitedBy.length ? ` (held back by the ${time.limitedBy.join(" and the ")})` : ""}
          {time.waitMs > 0 ? `; sending starts in ${formatDuration(time.waitMs)}, when the sending hours begin` : ""}.
        </p>
      ) : null}
      <p className="hint">
        Estimates use the standard presets ({Object.entries(PRESET_BASE_MS)
          .map(([name, ms]) => `${name} ${ms / 1000} s`)
          .join(", ")}
        , plus up to 50% at random). Once a campaign runs, its page shows the actual time left.
      </p>
    </div>
  );
}
