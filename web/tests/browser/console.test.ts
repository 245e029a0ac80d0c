// The console in real headless Chromium against the local stack, as a shop owner uses it: sign up, link a
// number (the QR code shows), import a CSV, write a template, run a 21-contact campaign (one opted out)
// to completion while the page shows its progress, and read the funnel; answer a reply in Conversations,
// and register a webhook endpoint that receives a signed test event. Every page gets the axe check and
// a screenshot in web/test-results/screenshots/.
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { launch, seriousViolations, shoot } from "./browser";

const base = inject("consoleUrl");
const email = `owner-${Date.now()}@example.com`;
const password = "a-long-password";

const CSV = [
  "Phone,Full Name,City,Tags,Opt In",
  ...Array.from({ length: 20 }, (_, i) => `+91 98765 ${String(10000 + i)},Friend ${i},Pune,diwali,yes`),
  "+91 98765 19999,Opted Out,Delhi,diwali,no",
  "not-a-phone,Bad Row,Nowhere,diwali,yes",
].join("\n");

let browser: Browser;
let page: Page;
const problems: string[] = [];

/** The page as it is now: a screenshot, and no serious or critical axe violation. */
async function check(name: string): Promise<void> {
  await shoot(page, name);
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
}

async function nav(label: string): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();
}

beforeAll(async () => {
  browser = await launch();
  // charts skip their animation (the app honours reduced motion), so screenshots show the final figures
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // a 4xx the API answers is shown in the page; anything else in the console is a defect
    if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
});

describe("a shop owner's first campaign", () => {
  test("signs up, and the session survives a reload", async () => {
    await page.goto(`${base}/`);
    await expect.poll(() => page.url()).toContain("/sign-in");
    await check("01-sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Business name").fill("Asha's Bakery");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    // the API's error, next to the field it names
    await expect.poll(() => page.locator(".field--invalid").getByText(/at least 8 characters/).count()).toBe(1);
    await check("02-sign-up-error");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Welcome, Asha's Bakery" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Welcome, Asha's Bakery" }).waitFor();
    await check("03-overview");
  });

  test("adds a number and links it with the QR code", async () => {
    await nav("Numbers");
    await page.getByRole("button", { name: "Add a number" }).click();
    await page.getByLabel("WhatsApp number").fill("+91 98000 12345");
    await page.getByLabel("Name (for you)").fill("Front desk");
    await page.getByRole("button", { name: "Add number" }).click();
    await page.getByRole("heading", { name: "Front desk" }).waitFor();
    await page.getByRole("button", { name: "Link the primary connection of Front desk" }).click();
    const qr = page.getByRole("img", { name: /QR code to link Front desk/ });
    await qr.waitFor();
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await check("04-numbers-qr");
    await page.getByText("Linked: the neonize connection is up").waitFor({ timeout: 30_000 });
    // the fallback is a second device of a connected number: the API shows no QR code then, so a pairing code
    await page.getByRole("button", { name: "Link the fallback connection of Front desk" }).click();
    await page.getByRole("button", { name: "Get a pairing code" }).click();
    await page.locator(".pairing-code .code").waitFor();
    await check("05-numbers-pairing-code");
    await page.getByText("Linked: the webjs connection is up").waitFor({ timeout: 30_000 });
    await check("06-numbers-linked");

    // a new number starts on the safe default (30-60 s gaps, daytime hours, a warm-up ramp); the test's
    // simulated number may go fast at any hour, so the test sets its pace as a user would
    const card = page.locator("section.sender", { has: page.getByRole("heading", { name: "Front desk" }) });
    await card.getByText(/a 3 min break every 30, at most 500 a day, warm-up from 20 a day, 09:00–20:00/).waitFor();
    await card.getByRole("button", { name: "Change pace" }).click();
    const pace = card.locator(".pace-form");
    await pace.getByRole("radio", { name: /Custom/ }).check();
    await pace.getByLabel("Shortest gap (seconds)").fill("1");
    await pace.getByLabel("Longest gap (seconds)").fill("1.2");
    await pace.getByLabel("Take a break every (messages)").fill("");
    await pace.getByLabel("Daily cap (messages)").fill("");
    await pace.getByLabel(/Warm up a new number/).uncheck();
    await pace.getByLabel("Send only during these hours").uncheck();
    await pace.getByRole("button", { name: "Save pace" }).click();
    await pace.waitFor({ state: "detached" });
  });

  test("imports a CSV: preview, column mapping, per-row report", async () => {
    await nav("Contacts");
    await check("07-contacts-empty");
    await page.getByRole("link", { name: "Import a CSV" }).click();
    await page.getByLabel("CSV file").setInputFiles({ name: "diwali.csv", mimeType: "text/csv", buffer: Buffer.from(CSV) });
    await page.getByRole("cell", { name: "Friend 0", exact: true }).waitFor();
    expect(await page.getByLabel("Use of column Phone").inputValue()).toBe("phone");
    expect(await page.getByLabel("Use of column City").inputValue()).toBe("attribute");
    expect(await page.getByLabel("Use of column Opt In").inputValue()).toBe("opt_in");
    await check("08-import-preview");
    await page.getByRole("button", { name: "Import 22 rows" }).click();
    await page.getByRole("heading", { name: "3. Result" }).waitFor();
    const tile = (label: string) => page.locator(".tile", { hasText: label }).locator("dd").innerText();
    expect(await tile("New contacts")).toBe("21");
    expect(await tile("Opted out")).toBe("1");
    expect(await tile("Rejected")).toBe("1");
    await page.getByRole("row", { name: /^23 Phone not a phone number/ }).waitFor();
    await check("09-import-report");
    await page.getByRole("link", { name: "See the imported contacts" }).click();
    await expect.poll(() => page.locator("table.contacts-table tbody tr").count()).toBe(21);
    await page.getByLabel("Search").fill("friend 7");
    await page.getByText("1 match in 21 contacts").waitFor();
    await check("10-contacts");
  });

  test("writes a template: the error at its line and column, then the preview", async () => {
    await nav("Templates");
    await check("11-templates");
    await page.getByRole("link", { name: "New template" }).click();
    await page.getByLabel("Name").fill("Diwali offer");
    const message = page.getByLabel("Message");
    await message.fill("Hi {{first_name|there}}!\nOur {{city store has 20% off this Diwali.");
    await page.locator(".field--invalid").getByText("Line 2, column 5: '{{' is never closed with '}}'").waitFor();
    await check("12-template-error");
    await message.fill("Hi {{first_name|there}}!\nOur {{city|town}} store has 20% off this Diwali. Reply STOP to opt out.");
    await page.getByRole("button", { name: "Save template" }).click();
    await expect.poll(() => page.url()).toMatch(/\/templates\/(?!new)[\w-]+$/);
    await page.getByLabel("Preview for").selectOption({ label: "Friend 1 (+919876510001)" });
    await page.getByText("Rendered by wacast, as it will be sent.").waitFor();
    await expect
      .poll(() => page.locator(".bubble").innerText())
      .toBe("Hi Friend!\nOur Pune store has 20% off this Diwali. Reply STOP to opt out.");
    await check("13-template");
  });

  test("builds a campaign and watches it run to completion", async () => {
    await page.getByRole("link", { name: "Send in a campaign" }).click();
    // the template page has a Name field too: wait for the builder before typing
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Diwali 2026");
    await page.getByLabel("Send from").selectOption({ label: "Front desk — Connected" });
    const tags = page.getByLabel("Tags");
    await tags.fill("diwali");
    await tags.press("Enter");
    await page.getByText("20 will get it (21 in the audience, 1 opted out and skipped).").waitFor();
    await page.getByRole("radio", { name: /Custom/ }).check();
    await page.getByLabel("Shortest gap (seconds)").fill("1");
    await page.getByLabel("Longest gap (seconds)").fill("1.2");
    await page.getByText(/20 messages take about/).waitFor();
    await check("14-campaign-builder");
    await page.getByRole("button", { name: "Send now" }).click();
    // every Friend gets "Hi Friend!": the same text to all 20, which the API refuses unless confirmed
    await page.getByText(/Not sent yet:.*the same text/).waitFor();
    await check("14b-campaign-same-text");
    await page.getByRole("button", { name: "Send it anyway" }).click();
    await expect.poll(() => page.url()).toMatch(/\/campaigns\/[\w-]+$/);

    // the page follows the run: the progress moves while it sends
    const seen = new Set<number>();
    const progress = page.locator(".progress-block progress");
    const deadline = Date.now() + 90_000;
    let shotWhileRunning = false;
    while (Date.now() < deadline) {
      const done = Number(await progress.getAttribute("value"));
      seen.add(done);
      if (!shotWhileRunning && done > 0 && done < 21) {
        await shoot(page, "15-campaign-running");
        shotWhileRunning = true;
      }
      if (await page.locator(".page-header .badge", { hasText: "Completed" }).count()) break;
      await page.waitForTimeout(500);
    }
    await page.locator(".page-header .badge", { hasText: "Completed" }).waitFor({ timeout: 5_000 });
    expect([...seen].some((n) => n > 0 && n < 21), `progress seen: ${[...seen].join(", ")}`).toBe(true);

    // receipts keep arriving after the last send: the funnel fills in
    const funnel = (label: string) => page.locator(".chart-table").first().getByRole("row", { name: new RegExp(`^${label}`) }).locator("td").first().innerText();
    await expect.poll(() => funnel("Read"), { timeout: 30_000 }).toBe("20");
    expect(await funnel("Sent")).toBe("20");
    expect(await funnel("Skipped")).toBe("1");
    expect(await funnel("Failed")).toBe("0");
    await page.getByRole("cell", { name: "Hi Friend! Our Pune store has 20% off this Diwali. Reply STOP to opt out." }).first().waitFor();
    await check("16-campaign-completed");
  });

  test("analytics show the funnel and the driver split", async () => {
    await nav("Analytics");
    const funnel = page.locator(".chart-table").first();
    await funnel.getByRole("row", { name: /^Sent 20/ }).waitFor();
    await funnel.getByRole("row", { name: /^Read 20/ }).waitFor();
    await page.getByRole("row", { name: /^neonize/ }).waitFor();
    await page.getByText(/No message failed in this range/).waitFor();
    await check("17-analytics");
  });

  test("conversations: a recipient's reply to the campaign, answered from the thread", async () => {
    // the simulated network makes about a third of the recipients reply after reading (local_stack.py)
    await nav("Conversations");
    const item = page.locator(".conversation-item", { hasText: "Awaiting your answer" }).first();
    await item.waitFor({ timeout: 30_000 });
    await check("17b-conversations");
    await item.getByRole("link").click();
    await expect.poll(() => page.url()).toMatch(/\/conversations\/%2B91/);
    const thread = page.getByRole("region", { name: /^Messages with Friend \d+$/ });
    // the reply, and the campaign message it answers, linked to its campaign
    await thread.locator(".chat-entry--in", { hasText: /Pune store too\?|See you Saturday/ }).first().waitFor();
    const sent = thread.locator(".chat-entry--out", { hasText: "Hi Friend! Our Pune store has 20% off this Diwali." });
    await sent.getByRole("link", { name: "Diwali 2026" }).waitFor();
    await sent.locator(".badge", { hasText: "Read" }).waitFor();
    await thread.locator(".chat-entry--in").first().getByRole("link", { name: "Diwali 2026" }).waitFor();
    // an empty answer is refused at its field; then the answer goes out as a direct send
    await page.getByRole("button", { name: "Send answer" }).click();
    await page.locator(".field--invalid").getByText("Write the answer first.").waitFor();
    await page.getByLabel("Your answer").fill("Yes, at every store until Sunday.");
    await page.getByRole("button", { name: "Send answer" }).click();
    const answer = thread.locator(".chat-entry--out", { hasText: "Yes, at every store until Sunday." });
    await answer.locator(".badge", { hasText: /Sent|Delivered|Read/ }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByLabel("Your answer").inputValue()).toBe("");
    // the list follows: the conversation's last word is now ours
    await page.locator(".conversation-item--current", { hasText: "You: Yes, at every store until Sunday." }).waitFor({ timeout: 15_000 });
    await check("17c-conversation-answered");
  });

  test("settings: an API key is shown once, then revoked", async () => {
    await nav("Settings");
    await page.getByLabel("New key's name").fill("Shop orders");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = await page.locator(".new-key code").innerText();
    expect(key).toMatch(/^wck_/);
    await check("18-settings-key");
    await page.getByRole("button", { name: "I have stored it" }).click();
    expect(await page.locator(".new-key").count()).toBe(0);
    // the list is refetched after the key is made: wait for its row, and say what the page shows if it never comes
    const row = page.getByRole("row", { name: /Shop orders/ });
    await row.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
      const shown = await page.locator("main").innerText().catch(() => "(no main)");
      throw new Error(`${error.message}\nthe page shows:\n${shown}`);
    });
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Revoke" }).click();
    await page.getByText("No API key").waitFor();
    await check("19-settings");
  });

  test("settings: a webhook URL refused at its field; an endpoint registered, a dead test event replayed, the secret rotated", async () => {
    // a tiny receiver on loopback (the local stack allows http and loopback; private addresses stay refused);
    // it answers a test event 410 (a dead delivery at once) as often as `refuse` says, then 204
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    let refuse = 1;
    const server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        received.push({ headers: request.headers, body });
        const test = request.headers["wacast-event-type"] === "webhook.test";
        response.writeHead(test && refuse-- > 0 ? 410 : 204).end();
      });
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const { port } = server.address() as AddressInfo;
    /** The last webhook.test request is signed with `secret`: HMAC-SHA256 over "<t>.<raw body>". */
    const signedWith = (secret: string): boolean => {
      const hit = received.filter((r) => r.headers["wacast-event-type"] === "webhook.test").at(-1);
      const signature = String(hit?.headers["wacast-signature"] ?? "");
      const t = /(?:^|,)t=(\d+)/.exec(signature)?.[1] ?? "";
      const expected = createHmac("sha256", secret).update(`${t}.${hit?.body ?? ""}`).digest("hex");
      return !!hit && signature.split(",").includes(`v1=${expected}`);
    };
    try {
      await nav("Settings");
      const section = page.locator("section.card", { has: page.getByRole("heading", { name: "Webhooks", exact: true }) });
      await section.getByText("No webhook endpoint").waitFor();
      await section.getByLabel("Endpoint URL").fill("http://10.1.2.3/hooks/wacast");
      await section.getByRole("checkbox", { name: /campaign\.completed/ }).check();
      await section.getByRole("button", { name: "Add endpoint" }).click();
      await section.locator(".field--invalid").getByText(/private, loopback or link-local/).waitFor();
      await check("19b-webhook-refused");

      const url = `http://127.0.0.1:${port}/hooks/wacast`;
      await section.getByLabel("Endpoint URL").fill(url);
      await section.getByRole("button", { name: "Add endpoint" }).click();
      const secret = await section.locator(".new-secret code").innerText();
      expect(secret).toMatch(/^whsec_/);
      const endpoint = section.locator("article.endpoint", { has: page.getByRole("heading", { name: url }) });
      await endpoint.getByText("campaign.completed").waitFor();
      await check("19c-webhook-secret");
      await section.getByRole("button", { name: "I have stored it" }).click();
      expect(await section.locator(".new-secret").count()).toBe(0);

      // the first try is answered 410: dead at once; replayed, it is delivered
      await endpoint.getByRole("button", { name: "Send a test event" }).click();
      const row = endpoint.getByRole("row", { name: /webhook\.test/ }).first();
      await row.getByText("Dead").waitFor({ timeout: 30_000 });
      await row.getByRole("cell", { name: /^HTTP 410/ }).waitFor();
      await check("19d-webhook-dead");
      await row.getByRole("button", { name: "Replay" }).click();
      await row.getByText("Delivered").waitFor({ timeout: 30_000 });
      await row.getByRole("cell", { name: /^HTTP 204/ }).waitFor();
      await row.getByText("replay 1").waitFor();
      expect(received.filter((r) => r.headers["wacast-event-type"] === "webhook.test").length).toBe(2);
      expect(signedWith(secret)).toBe(true);
      expect(JSON.parse(received.at(-1)?.body ?? "{}")).toMatchObject({ type: "webhook.test" });
      await check("19e-webhook-replayed");

      // a new secret, shown once; during the overlap a delivery is signed with both
      await endpoint.getByRole("button", { name: "Rotate secret" }).click();
      await endpoint.getByRole("button", { name: "Rotate" }).click();
      const rotated = await section.locator(".new-secret code").innerText();
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(secret);
      await section.getByRole("button", { name: "I have stored it" }).click();
      await endpoint.getByRole("button", { name: "Send a test event" }).click();
      await expect.poll(() => endpoint.getByRole("row", { name: /webhook\.test.*Delivered/ }).count(), { timeout: 30_000 }).toBe(2);
      expect(signedWith(rotated) && signedWith(secret)).toBe(true);

      await endpoint.getByRole("button", { name: "Disable" }).click();
      await endpoint.locator(".badge", { hasText: "Disabled" }).waitFor();
      await endpoint.getByRole("button", { name: "Delete" }).click();
      await endpoint.getByRole("button", { name: "Delete" }).click();
      await section.getByText("No webhook endpoint").waitFor();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("a file too big for the API goes to S3 through a presigned PUT, and the page follows the import", async () => {
    // 30 good rows, and 100 whose note is longer than a contact's field may be: 4.5 MB, over the API's 4 MiB
    const note = "n".repeat(45_000);
    const big = [
      "Phone,Name,Notes",
      ...Array.from({ length: 30 }, (_, i) => `+91 98766 ${String(20000 + i)},Big ${i},short`),
      ...Array.from({ length: 100 }, (_, i) => `+91 98766 ${String(30000 + i)},Long ${i},${note}`),
    ].join("\n");
    expect(big.length).toBeGreaterThan(4 * 1024 * 1024);
    await nav("Contacts");
    await page.getByRole("link", { name: "Import a CSV" }).click();
    await page.getByLabel("CSV file").setInputFiles({ name: "big.csv", mimeType: "text/csv", buffer: Buffer.from(big) });
    await page.getByRole("cell", { name: "Big 0", exact: true }).waitFor();
    await page.getByRole("button", { name: "Import 130 rows" }).click();
    await page
      .getByRole("heading", { name: "3. Result" })
      .waitFor({ timeout: 60_000 })
      .catch(async (error: Error) => {
        throw new Error(`${error.message}\nthe page shows:\n${await page.locator("main").innerText()}`);
      });
    const tile = (label: string) => page.locator(".tile", { hasText: label }).locator("dd").innerText();
    expect(await tile("New contacts")).toBe("30");
    expect(await tile("Rejected")).toBe("100");
    const rejected = page.getByRole("link", { name: "Download every rejected row as CSV" });
    const href = await rejected.getAttribute("href");
    const csv = await (await fetch(href ?? "")).text();
    expect(csv.trim().split("\n").length).toBe(101); // a header, then the 100 rows
    await check("20-import-through-s3");
  });

  test("a 401 leads back to sign-in, and signing in returns to the page", async () => {
    await nav("Campaigns");
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem("wacast.session") ?? "{}");
      localStorage.setItem("wacast.session", JSON.stringify({ ...session, token: "not-a-valid-token" }));
    });
    await page.reload();
    await page.getByText("Your session ended. Sign in again to continue.").waitFor();
    expect(new URL(page.url()).searchParams.get("next")).toBe("/campaigns");
    await check("20-session-ended");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.getByRole("link", { name: "Diwali 2026" }).waitFor();
  });

  test("works at phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Diwali 2026" }).click();
    await page.locator(".page-header .badge", { hasText: "Completed" }).waitFor();
    await check("21-phone-campaign");
    expect(await page.getByRole("navigation", { name: "Main" }).isVisible()).toBe(false);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
    await page.getByRole("heading", { name: "Contacts" }).waitFor();
    await page.locator("table.contacts-table").waitFor();
    await check("22-phone-contacts");
    // the conversations: the list, then a thread in its place (with the way back)
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Conversations" }).click();
    await page.locator(".conversation-item a").first().click();
    await page.getByRole("region", { name: /^Messages with / }).locator(".chat-entry").first().waitFor();
    expect(await page.locator(".conversation-list").isVisible()).toBe(false);
    await check("22b-phone-conversation");
    await page.getByRole("link", { name: "All conversations" }).click();
    await page.locator(".conversation-list").waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.url()).toContain("/sign-in");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test("no script error on the way", () => {
    expect(problems).toEqual([]);
  });
});
