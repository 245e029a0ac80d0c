import { Suspense, lazy } from "react";
import { Link, Route, Routes } from "react-router";
import { RequireAuth } from "./auth/RequireAuth";
import { Loading } from "./components/feedback";
import { Layout } from "./components/Layout";
import { Page } from "./components/Page";
import { CampaignBuilderPage } from "./pages/CampaignBuilder";
import { Campaigns } from "./pages/Campaigns";
import { Contacts } from "./pages/Contacts";
import { Conversations } from "./pages/Conversations";
import { ImportContacts } from "./pages/ImportContacts";
import { Numbers } from "./pages/Numbers";
import { Overview } from "./pages/Overview";
import { Settings } from "./pages/Settings";
import { SignIn, SignUp } from "./pages/SignIn";
import { TemplateEditor, Templates } from "./pages/Templates";

// The pages with charts load chart.js on first use.
const CampaignPage = lazy(() => import("./pages/CampaignPage").then((m) => ({ default: m.CampaignPage })));
const Analytics = lazy(() => import("./pages/Analytics").then((m) => ({ default: m.Analytics })));

export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route path="/sign-up" element={<SignUp />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<Overview />} />
        <Route path="numbers" element={<Numbers />} />
        <Route path="contacts" element={<Contacts />} />
        <Route path="contacts/import" element={<ImportContacts />} />
        <Route path="templates" element={<Templates />} />
        <Route path="templates/new" element={<TemplateEditor />} />
        <Route path="templates/:id" element={<TemplateEditor />} />
        <Route path="campaigns" element={<Campaigns />} />
        <Route path="campaigns/new" element={<CampaignBuilderPage />} />
        <Route path="campaigns/:id/edit" element={<CampaignBuilderPage />} />
        <Route
          path="campaigns/:id"
          element={
            <Suspense fallback={<Loading />}>
              <CampaignPage />
            </Suspense>
          }
        />
        <Route path="conversations" element={<Conversations />} />
        <Route path="conversations/:phone" element={<Conversations />} />
        <Route
          path="analytics"
          element={
            <Suspense fallback={<Loading />}>
              <Analytics />
            </Suspense>
          }
        />
        <Route path="settings" element={<Settings />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing here. <Link to="/">Back to the overview</Link>.
      </p>
    </Page>
  );
}
