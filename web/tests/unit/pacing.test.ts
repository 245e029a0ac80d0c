import { describe, expect, test } from "vitest";
import type { PacingPolicy } from "../../src/api/types";
import { assessRisk, describePolicy, estimate, gapBounds, withinFloor } from "../../src/lib/pacing";

const policy = (p: Partial<PacingPolicy>): PacingPolicy => ({ preset: "balanced", ...p });

describe("pacing in plain language", () => {
  test("presets resolve to their base gap plus up to 50%; custom gaps are as given", () => {
    expect(gapBounds(policy({ preset: "fast" }))).toEqual([2000, 3000]);
    expect(gapBounds(policy({ preset: "safe" }))).toEqual([10000, 15000]);
    expect(gapBounds(policy({ preset: "custom", min_gap_ms: 30000, max_gap_ms: 60000 }))).toEqual([30000, 60000]);
    expect(gapBounds(policy({ preset: "custom", min_gap_ms: 4000 }))).toEqual([4000, 6000]);
  });

  test("a campaign is never faster than its number: the number's gap, cap and breaks apply", () => {
    const floor = policy({ preset: "custom", min_gap_ms: 20000, max_gap_ms: 30000, daily_cap: 100, pause_every: 50, pause_ms: 120000 });
    const made = withinFloor(policy({ preset: "fast", daily_cap: 500 }), floor);
    expect(gapBounds(made)).toEqual([20000, 30000]);
    expect(made.daily_cap).toBe(100);
    expect(made.pause_every).toBe(50);
    expect(made.pause_ms).toBe(120000);
    const slower = policy({ preset: "custom", min_gap_ms: 60000, max_gap_ms: 90000 });
    expect(gapBounds(withinFloor(slower, floor))).toEqual([60000, 90000]);
  });

  test("the duration: gaps, breaks, and a daily cap spreading the sends over days", () => {
    const now = new Date("2026-12-01T10:00:00Z");
    const gaps = policy({ preset: "custom", min_gap_ms: 1000, max_gap_ms: 1000 });
    expect(estimate(gaps, 11, now).ms).toBe(10_000);
    expect(estimate({ ...gaps, pause_every: 5, pause_ms: 60_000 }, 11, now).ms).toBe(10_000 + 2 * 60_000);
    const capped = estimate({ ...gaps, daily_cap: 10 }, 25, now);
    expect(capped.days).toBe(3);
    expect(capped.limitedBy).toEqual(["daily cap"]);
  });

  test("a closed sending window: the first send waits until it opens", () => {
    const now = new Date("2026-12-01T22:00:00Z"); // 22:00 UTC
    const windowed = policy({ preset: "custom", min_gap_ms: 1000, max_gap_ms: 1000, window: { start: "09:00", end: "20:00", timezone: "UTC" } });
    const result = estimate(windowed, 3, now);
    expect(result.waitMs).toBe(11 * 3_600_000);
    expect(result.ms).toBe(11 * 3_600_000 + 2000);
  });

  test("the risk: bursts are high, community pacing with breaks, a cap and a window is low", () => {
    expect(assessRisk(policy({ preset: "fast" }), 100).level).toBe("high");
    expect(assessRisk(policy({ preset: "balanced" }), 10).level).toBe("elevated");
    const careful = policy({
      preset: "custom",
      min_gap_ms: 45000,
      max_gap_ms: 90000,
      pause_every: 30,
      daily_cap: 150,
      window: { start: "09:00", end: "20:00", timezone: "Asia/Kolkata" },
    });
    const reading = assessRisk(careful, 500, 60);
    expect(reading.level).toBe("low");
    expect(reading.reasons).toHaveLength(1);
    expect(assessRisk(policy({ preset: "custom", min_gap_ms: 30000, max_gap_ms: 30000 }), 10).reasons.join(" ")).toContain("same length");
  });

  test("a policy in one line", () => {
    expect(describePolicy(policy({ preset: "custom", min_gap_ms: 30000, max_gap_ms: 60000, pause_every: 40, daily_cap: 200 }))).toBe(
      "30 s–1 min apart, a 1 min break every 40, at most 200 a day",
    );
  });
});
