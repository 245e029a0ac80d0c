import type { Schemas } from "./types";

type ErrorBody = Schemas["ErrorResponse"]["error"];
type ErrorDetail = NonNullable<ErrorBody["details"]>[number];

/** Where a template body is at fault: the API adds it to the detail of a template that does not parse. */
export interface BodyPosition {
  line: number;
  column: number;
  offset: number;
}

/**
 * An answer of the API that is not a success, in its one error shape
 * (`{"error": {"code", "message", "details": [{"field", "message"}]}}`), or a network failure (status 0).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  /** Seconds to wait before trying again (429's Retry-After). */
  readonly retryAfter: number | null;

  constructor(status: number, body: ErrorBody, retryAfter: number | null = null) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? [];
    this.retryAfter = retryAfter;
  }

  /** The first problem with each request field, by field name (`pacing.min_gap_ms`, `audience`...). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const detail of this.details) {
      if (detail.field && !(detail.field in out)) out[detail.field] = detail.message;
    }
    return out;
  }

  /** The message to show where no field owns the problem (the problems no field names). */
  generalMessage(knownFields: Iterable<string> = []): string | null {
    const known = new Set(knownFields);
    const loose = this.details.filter((d) => !d.field || !matchesAny(d.field, known));
    if (this.details.length === 0) return this.message;
    if (loose.length === 0) return null;
    return loose.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join(" ");
  }

  /** The line and column of a template body that does not parse, when the API gave one. */
  bodyPosition(): BodyPosition | null {
    for (const detail of this.details) {
      const position = (detail as Record<string, unknown>).position;
      if (position && typeof position === "object") {
        const { line, column, offset } = position as Record<string, unknown>;
        if (typeof line === "number" && typeof column === "number") {
          return { line, column, offset: typeof offset === "number" ? offset : 0 };
        }
      }
    }
    return null;
  }
}

function matchesAny(field: string, known: Set<string>): boolean {
  for (const name of known) {
    if (field === name || field.startsWith(`${name}.`)) return true;
  }
  return false;
}

/** Turns what openapi-fetch hands back for a failed call into an ApiError (the API's shape, or a stand-in). */
export function toApiError(response: Response, error: unknown): ApiError {
  const retryHeader = response.headers.get("Retry-After");
  const retryAfter = retryHeader && /^\d+$/.test(retryHeader) ? Number(retryHeader) : null;
  if (isErrorResponse(error)) return new ApiError(response.status, error.error, retryAfter);
  const message =
    response.status >= 500
      ? `The server had a problem (${response.status}). Try again in a moment.`
      : `The request failed (${response.status}).`;
  return new ApiError(response.status, { code: "http_error", message, details: [] }, retryAfter);
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError(0, {
    code: "network_error",
    message: "Cannot reach wacast. Check your connection and try again.",
    details: [],
  });
  error.cause = cause;
  return error;
}

function isErrorResponse(value: unknown): value is { error: ErrorBody } {
  if (!value || typeof value !== "object" || !("error" in value)) return false;
  const body = (value as { error: unknown }).error;
  return !!body && typeof body === "object" && "message" in body && "code" in body;
}

/** A message for any thrown value, for places that show one line. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
