import { describe, expect, test } from "vitest";
import { ApiError, toApiError } from "../../src/api/errors";

describe("the API's one error shape", () => {
  const error = new ApiError(422, {
    code: "validation_error",
    message: "name: too short",
    details: [
      { field: "name", message: "too short" },
      { field: "pacing.min_gap_ms", message: "must be at least 0" },
      { field: "body", message: "line 2, column 5: '{{' is never closed", position: { line: 2, column: 5, offset: 9 } },
      { field: null, message: "something general" },
    ],
  });

  test("each problem goes to the field it names", () => {
    expect(error.fieldErrors()).toEqual({
      name: "too short",
      "pacing.min_gap_ms": "must be at least 0",
      body: "line 2, column 5: '{{' is never closed",
    });
  });

  test("what no shown field owns is said above the form", () => {
    expect(error.generalMessage(["name", "pacing", "body"])).toBe("something general");
    expect(error.generalMessage(["name"])).toContain("pacing.min_gap_ms: must be at least 0");
  });

  test("a template body's line and column come with the error", () => {
    expect(error.bodyPosition()).toEqual({ line: 2, column: 5, offset: 9 });
  });

  test("an answer not in the shape still becomes an error with a message, and 429 says when to retry", () => {
    const plain = toApiError(new Response("oops", { status: 502 }), undefined);
    expect(plain.status).toBe(502);
    expect(plain.message).toMatch(/server had a problem/);
    const limited = toApiError(new Response("", { status: 429, headers: { "Retry-After": "600" } }), {
      error: { code: "rate_limited", message: "too many", details: [] },
    });
    expect(limited.retryAfter).toBe(600);
  });
});
