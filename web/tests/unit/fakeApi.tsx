// A stand-in for the API in component tests: routes by method and path, records what was asked, answers
// JSON. The app renders in a memory router with a fresh query client.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";
import { sessions } from "../../src/auth/session";
import type { Session } from "../../src/api/types";

type Handler = (request: Request, match: RegExpMatchArray) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function apiError(status: number, code: string, message: string, details: { field: string | null; message: string; [k: string]: unknown }[] = []) {
  return json(status, { error: { code, message, details: details.length ? details : [{ field: null, message }] } });
}

export function fakeApi(routes: Record<string, Handler>) {
  const calls: { method: string; path: string; body: string | null; auth: string | null }[] = [];
  const compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(" ") as [string, string];
    return { method, pattern: new RegExp(`^${pattern}$`), handler };
  });
  const fetchMock = vi.fn(async (input: RequestInfo | URL) => {
    const request = input instanceof Request ? input : new Request(String(input));
    const url = new URL(request.url);
    const body = request.method === "GET" ? null : await request.clone().text();
    calls.push({ method: request.method, path: url.pathname + url.search, body, auth: request.headers.get("Authorization") });
    for (const route of compiled) {
      const match = url.pathname.match(route.pattern);
      if (match && route.method === request.method) return route.handler(request, match);
    }
    return apiError(404, "not_found", `no fake for ${request.method} ${url.pathname}`);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

export const SESSION: Session = {
  token: "test-token",
  token_type: "bearer",
  expires_at: new Date(Date.now() + 3_600_000).toISOString(),
  user: { id: "user_1", email: "asha@example.com", name: "Asha Rao", role: "owner" },
  account: { id: "acct_1", name: "Asha's Bakery", default_sender_id: "sndr_1", default_country: "IN" },
};

export function signIn(): void {
  sessions.start(SESSION);
}

/** Renders `element` at `path` (the route pattern `route`), beside a sign-in page that says where it is. */
export function renderAt(path: string, route: string, element: ReactNode, extra: ReactNode = null) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path={route} element={element} />
          <Route path="/sign-in" element={<p>sign-in page</p>} />
          {extra}
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}
