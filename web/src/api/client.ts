import createClient, { type Middleware } from "openapi-fetch";
import { sessions } from "../auth/session";
import { ApiError, networkError, toApiError } from "./errors";
import type { paths } from "./types";

/**
 * The typed client of the wacast API (openapi-fetch over the types generated from openapi.json).
 * Same origin: the console and the API are served from one address (CloudFront on AWS, local/web.py here).
 */
export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "" : window.location.origin,
  // resolved at each call, so tests can stand in for fetch
  fetch: (request) => globalThis.fetch(request),
});

/** Every request carries the session's token; a 401 to a request that carried one ends the session. */
const auth: Middleware = {
  onRequest({ request }) {
    const token = sessions.token();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has("Authorization")) sessions.clear("expired");
    return response;
  },
};
api.use(auth);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a call, or an ApiError thrown (the API's error shape, or a network failure). */
export async function call<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch (cause) {
    throw cause instanceof ApiError ? cause : networkError(cause);
  }
  if (!result.response.ok) throw toApiError(result.response, result.error);
  return result.data as T;
}

/** A file the API answers (CSV exports, the QR code as SVG), fetched with the session's token. */
export async function fetchFile(path: string): Promise<Blob> {
  const headers = new Headers();
  const token = sessions.token();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { headers });
  } catch (cause) {
    throw networkError(cause);
  }
  if (response.status === 401 && token) sessions.clear("expired");
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => undefined);
    throw toApiError(response, body);
  }
  return response.blob();
}

/** Saves a file the API answers under `filename` (the browser's download). */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await fetchFile(path);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
