// Components against a stand-in API: errors next to their fields, the session's life, the template
// editor's live checks, the pacing explanation, a campaign's live progress, and the import's report.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route } from "react-router";
import { describe, expect, test, vi } from "vitest";
import { RequireAuth } from "../../src/auth/RequireAuth";
import { sessions } from "../../src/auth/session";
import { PacingEditor } from "../../src/components/PacingEditor";
import { BodyEditor } from "../../src/components/TemplateBody";
import { CampaignPage } from "../../src/pages/CampaignPage";
import { ImportContacts } from "../../src/pages/ImportContacts";
import { SignIn, SignUp } from "../../src/pages/SignIn";
import { SESSION, apiError, fakeApi, json, renderAt, signIn } from "./fakeApi";

// chart.js draws on a canvas jsdom does not have: the charts stand in as labelled images
vi.mock("react-chartjs-2", () => {
  const Chart = (props: { role?: string; "aria-label"?: string }) => <canvas role={props.role} aria-label={props["aria-label"]} />;
  return { Bar: Chart, Doughnut: Chart };
});

describe("signing in and out", () => {
  test("the API's problems appear next to the fields they name", async () => {
    fakeApi({
      "POST /api/auth/register": () =>
        apiError(422, "validation_error", "password: too short", [
          { field: "password", message: "String should have at least 8 characters" },
          { field: "email", message: "not an email" },
        ]),
    });
    renderAt("/sign-up", "/sign-up", <SignUp />);
    await userEvent.type(screen.getByLabelText("Email"), "asha");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    const password = screen.getByLabelText("Password");
    await waitFor(() => expect(password).toHaveAttribute("aria-invalid", "true"));
    expect(password).toHaveAccessibleDescription(/at least 8 characters/);
    expect(screen.getByLabelText("Email")).toHaveAccessibleDescription("not an email");
    expect(screen.getByLabelText("Email")).toHaveFocus(); // the first field at fault takes the focus
  });

  test("a wrong password says so above the form; a right one starts the session", async () => {
    let attempts = 0;
    fakeApi({
      "POST /api/auth/login": () => (++attempts === 1 ? apiError(401, "unauthorized", "bad credentials") : json(200, SESSION)),
    });
    renderAt("/sign-in?next=%2Fcampaigns", "/sign-in", <SignIn />, <Route path="/campaigns" element={<p>campaigns page</p>} />);
    await userEvent.type(screen.getByLabelText("Email"), "asha@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "a-long-password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That email and password do not match an account.");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("campaigns page")).toBeInTheDocument();
    expect(sessions.get()?.token).toBe("test-token");
    expect(JSON.parse(localStorage.getItem("wacast.session") ?? "{}").token).toBe("test-token"); // survives a reload
  });

  test("without a session a page sends you to sign-in, remembering where you were", async () => {
    renderAt("/campaigns/cmp_1", "/campaigns/:id", <RequireAuth>secret</RequireAuth>);
    expect(await screen.findByText("sign-in page")).toBeInTheDocument();
  });

  test("a 401 from the API ends the session, and the page goes back to sign-in", async () => {
    signIn();
    fakeApi({ "GET /api/campaigns/cmp_1": () => apiError(401, "unauthorized", "token expired") });
    renderAt(
      "/campaigns/cmp_1",
      "/campaigns/:id",
      <RequireAuth>
        <CampaignPage />
      </RequireAuth>,
    );
    expect(await screen.findByText("sign-in page")).toBeInTheDocument();
    expect(sessions.get()).toBeNull();
    expect(sessions.lastReason).toBe("expired");
  });
});

describe("the template editor", () => {
  test("a body that does not parse is shown at its line and column, with a marker", () => {
    renderAt("/", "/", <BodyEditor body={"Hello!\nYour order {{order_id is ready"} onChange={() => undefined} />);
    const area = screen.getByLabelText("Message");
    expect(area).toHaveAttribute("aria-invalid", "true");
    expect(area).toHaveAccessibleDescription(/Line 2, column 12: '\{\{' is never closed with '\}\}'/);
    expect(screen.getByText("Line 2, column 12")).toBeInTheDocument();
  });

  test("the API's position is shown when only the API finds the problem", () => {
    renderAt(
      "/",
      "/",
      <BodyEditor body={"Hi {{name}}"} onChange={() => undefined} apiError="line 1, column 4: too long" apiPosition={{ line: 1, column: 4 }} />,
    );
    expect(screen.getByLabelText("Message")).toHaveAccessibleDescription(/line 1, column 4: too long/);
    expect(screen.getByText("Line 1, column 4")).toBeInTheDocument();
  });
});

describe("the pace", () => {
  test("fast is a high ban risk; custom gaps can be set; the duration follows the audience", async () => {
    let value = { preset: "safe" as const } as Parameters<typeof PacingEditor>[0]["value"];
    const { rerender } = renderAt("/", "/", <PacingEditor value={value} onChange={(v) => (value = v)} count={100} />);
    expect(screen.getByText("Some ban risk")).toBeInTheDocument();
    expect(screen.getByText(/100 messages take about/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole("radio", { name: /Fast/ }));
    rerender(<PacingEditor value={value} onChange={(v) => (value = v)} count={100} />);
    expect(screen.getByText("High ban risk")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("radio", { name: /Custom/ }));
    rerender(<PacingEditor value={value} onChange={(v) => (value = v)} count={100} />);
    expect(screen.getByLabelText("Shortest gap (seconds)")).toHaveValue(2);
  });
});

const CAMPAIGN = {
  id: "cmp_1",
  name: "Diwali",
  sender_id: "sndr_1",
  template_id: null,
  body: "Hi {{name}}",
  audience: { tags: ["diwali"], contact_ids: null, import_batch: null },
  audience_size: 10,
  pacing: null,
  status: "running",
  run: 1,
  counters: { total: 10, queued: 5, sent: 2, delivered: 1, read: 1, failed: 1, skipped: 0, unknown: 0 },
  failure_reason: null,
  schedule: null,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
  started_at: "2026-12-01T10:00:00Z",
  completed_at: null,
};

describe("a campaign's page", () => {
  test("shows the live progress with an ETA, and pause; pausing asks the API", async () => {
    signIn();
    const eta = new Date(Date.now() + 125_000).toISOString();
    let paused = false;
    const { calls } = fakeApi({
      "GET /api/campaigns/cmp_1": () => json(200, { ...CAMPAIGN, status: paused ? "paused" : "running" }),
      "GET /api/campaigns/cmp_1/stats": () =>
        json(200, {
          campaign_id: "cmp_1",
          status: paused ? "paused" : "running",
          run: 1,
          audience_size: 10,
          counters: CAMPAIGN.counters,
          sent_total: 4,
          rates: { delivery: 0.5, read: 0.25, failure: 0.1 },
          by_driver: { neonize: 3, webjs: 1 },
          fallback_used: 1,
          eta,
        }),
      "GET /api/campaigns/cmp_1/messages": () => json(200, { items: [], next_cursor: null }),
      "GET /api/senders": () => json(200, []),
      "GET /api/templates": () => json(200, { items: [], next_cursor: null }),
      "POST /api/campaigns/cmp_1/pause": () => {
        paused = true;
        return json(200, { ...CAMPAIGN, status: "paused" });
      },
    });
    renderAt("/campaigns/cmp_1", "/campaigns/:id", <CampaignPage />);
    const label = await screen.findByText(/of 10 done/);
    await waitFor(() => expect(label.parentElement).toHaveTextContent(/5 of 10 done \(50%\) · about 2 min left/));
    expect(screen.getByRole("progressbar", { name: /5 of 10 done/ })).toHaveAttribute("value", "5");
    expect(screen.getByRole("img", { name: /Messages sent by each connection: neonize 3, webjs 1/ })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Pause" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/api/campaigns/cmp_1/pause")).toBe(true));
    expect(await screen.findByRole("button", { name: "Resume" })).toBeInTheDocument();
    expect(calls.every((c) => c.auth === "Bearer test-token")).toBe(true);
  });
});

describe("importing a CSV", () => {
  test("preview, mapping, then the per-row report", async () => {
    signIn();
    const { calls } = fakeApi({
      "POST /api/contacts/import": () =>
        json(200, {
          import_batch: "imp_0123456789abcdef0123",
          rows: 3,
          imported: 2,
          updated: 0,
          duplicate: 0,
          duplicate_in_file: 0,
          unchanged: 0,
          opted_out: 0,
          rejected: [{ line: 4, reason: "not a phone number: 'x'", field: "Mobile" }],
          ignored_columns: [],
        }),
    });
    renderAt("/contacts/import", "/contacts/import", <ImportContacts />);
    const csv = "Mobile,Customer Name,City\n+919876500001,Asha,Pune\n+919876500002,Ravi,Delhi\nx,Bad,Nowhere\n";
    await userEvent.upload(screen.getByLabelText("CSV file"), new File([csv], "shop.csv", { type: "text/csv" }));
    expect(await screen.findByRole("cell", { name: "Asha" })).toBeInTheDocument();
    expect(screen.getByLabelText("Use of column Mobile")).toHaveValue("phone");
    expect(screen.getByLabelText("Use of column Customer Name")).toHaveValue("name");
    expect(screen.getByLabelText("Use of column City")).toHaveValue("attribute");
    await userEvent.click(screen.getByRole("button", { name: "Import 3 rows" }));
    const report = await screen.findByRole("heading", { name: "3. Result" });
    const section = report.closest("section") as HTMLElement;
    expect(within(section).getByRole("status")).toHaveTextContent("Imported 2 contacts; 1 row was rejected.");
    expect(within(section).getByRole("row", { name: /4 Mobile not a phone number/ })).toBeInTheDocument();
    // the file goes as multipart (its content is checked end to end by the browser test: jsdom's File does
    // not cross into Node's fetch)
    expect(calls.find((c) => c.path === "/api/contacts/import")?.body).toContain('name="file"');
    expect(within(section).getByRole("link", { name: "Send these contacts a campaign" })).toHaveAttribute(
      "href",
      "/campaigns/new?import_batch=imp_0123456789abcdef0123",
    );
  });
});
