import { describe, expect, test } from "vitest";
import { describeCron, toCron, zonedIso } from "../../src/lib/schedule";

describe("schedules", () => {
  test("recurring runs in words become cron, and read back", () => {
    const base = { time: "09:30", weekday: 1, dayOfMonth: 15 };
    expect(toCron({ ...base, frequency: "daily" })).toBe("30 9 * * *");
    expect(toCron({ ...base, frequency: "weekdays" })).toBe("30 9 * * 1-5");
    expect(toCron({ ...base, frequency: "weekly" })).toBe("30 9 * * 1");
    expect(toCron({ ...base, frequency: "monthly" })).toBe("30 9 15 * *");
    expect(describeCron("30 9 * * 1-5")).toBe("every weekday at 09:30");
    expect(describeCron("0 18 * * 5")).toBe("every Friday at 18:00");
    expect(describeCron("*/5 * * * *")).toBe("*/5 * * * *");
  });

  test("a wall-clock time in a zone, with its offset, as the API takes send_at", () => {
    expect(zonedIso("2026-12-01", "09:00", "Asia/Kolkata")).toBe("2026-12-01T09:00:00+05:30");
    expect(zonedIso("2026-07-01", "09:00", "Europe/London")).toBe("2026-07-01T09:00:00+01:00");
    expect(zonedIso("2026-12-01", "09:00", "Europe/London")).toBe("2026-12-01T09:00:00+00:00");
    expect(zonedIso("2026-12-01", "09:00", "America/Sao_Paulo")).toBe("2026-12-01T09:00:00-03:00");
  });
});
