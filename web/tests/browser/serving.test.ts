// How the console is served beside the API (local/web.py locally, CloudFront on AWS): one origin, the
// API's paths forwarded untouched, every other path a file of the build or the app's index.html.
import { describe, expect, inject, test } from "vitest";

const base = inject("consoleUrl");

describe("one origin for the console and the API", () => {
  test("the app is served at / and at any of its routes (the single-page app's fallback)", async () => {
    for (const path of ["/", "/campaigns/cmp_123", "/contacts/import"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toContain("text/html");
      expect(await response.text(), path).toContain('<div id="root">');
    }
  });

  test("a missing file is a 404, not the app", async () => {
    const response = await fetch(`${base}/assets/missing-file.js`);
    expect(response.status).toBe(404);
  });

  test("the build's files are cached for good, index.html is revalidated", async () => {
    const html = await (await fetch(`${base}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${base}/`)).headers.get("cache-control")).toBe("no-cache");
  });

  test("the API's paths reach the API, errors in its own shape", async () => {
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const missing = await fetch(`${base}/api/no-such-route`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
    const unauthorised = await fetch(`${base}/api/auth/me`);
    expect(unauthorised.status).toBe(401);
    const openapi = await fetch(`${base}/openapi.json`);
    expect(Object.keys((await openapi.json()).paths)).toContain("/api/campaigns");
  });

  test("request bodies and headers reach the API", async () => {
    const register = await fetch(`${base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `proxy-${Date.now()}@example.com`, password: "a-long-password" }),
    });
    expect(register.status).toBe(201);
    const { token } = (await register.json()) as { token: string };
    const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
  });
});
