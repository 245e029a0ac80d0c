import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, call } from "../api/client";
import { ApiError, messageOf } from "../api/errors";
import { LIVE_MS, keys, useSettings } from "../api/queries";
import type { AccountSettings, CreatedApiKey, DlqName } from "../api/types";
import { useSession } from "../auth/useSession";
import { RoleBadge } from "../components/Badge";
import { ConfirmButton } from "../components/ConfirmButton";
import { ShownOnce } from "../components/ShownOnce";
import { Field } from "../components/Field";
import { Empty, FormError, LoadError, Loading, Notice } from "../components/feedback";
import { Page, Section } from "../components/Page";
import { formatDateTime, formatNumber } from "../lib/format";
import { useFormErrors } from "../lib/useFormErrors";
import { DataTable } from "../components/DataTable";
import { Webhooks } from "./Webhooks";

const COUNTRIES = ["IN", "AE", "AU", "BD", "BR", "CA", "DE", "EG", "ES", "FR", "GB", "ID", "IT", "KE", "LK", "MX", "MY", "NG", "NL", "NP", "PH", "PK", "SA", "SG", "TR", "US", "ZA"];
const DLQS: DlqName[] = ["outbox", "campaigns", "events", "control"];

export function Settings() {
  const session = useSession();
  const canManage = session?.user.role !== "member";
  return (
    <Page title="Settings" lead="Your account, API keys, webhooks, people, and how the queues are doing.">
      {!canManage ? <Notice>You are a member: owners and admins change settings, keys and users.</Notice> : null}
      <AccountSettingsForm canManage={canManage} />
      {canManage ? <ApiKeys /> : null}
      <Webhooks canManage={canManage} />
      {canManage ? <Users /> : null}
      <Operations />
    </Page>
  );
}

function AccountSettingsForm({ canManage }: { canManage: boolean }) {
  const settings = useSettings();
  if (settings.isPending) return <Loading />;
  if (settings.isError) return <LoadError error={settings.error} retry={() => settings.refetch()} />;
  return <SettingsForm key={JSON.stringify(settings.data)} settings={settings.data} canManage={canManage} />;
}

function SettingsForm({ settings, canManage }: { settings: AccountSettings; canManage: boolean }) {
  const queryClient = useQueryClient();
  const [country, setCountry] = useState(settings.default_country);
  const [keywords, setKeywords] = useState(settings.stop_keywords.join("\n"));
  const form = useFormErrors(["default_country", "stop_keywords"]);
  const regionNames = new Intl.DisplayNames(undefined, { type: "region" });
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PATCH("/api/account/settings", {
          body: {
            default_country: country,
            stop_keywords: keywords
              .split("\n")
              .map((k) => k.trim())
              .filter(Boolean),
          },
        }),
      ),
    onSuccess: (data) => queryClient.setQueryData(keys.settings, data),
    onError: (error) => form.fail(error),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    save.mutate();
  };
  const countries = COUNTRIES.includes(settings.default_country) ? COUNTRIES : [settings.default_country, ...COUNTRIES];
  return (
    <Section title="Account">
      <form ref={form.formRef} onSubmit={submit} noValidate>
        <FormError message={form.errors.general} />
        <Field label="Default country" hint="Phone numbers written without a country code are read in this country." error={form.of("default_country")}>
          <select value={country} disabled={!canManage} onChange={(e) => setCountry(e.target.value)}>
            {countries.map((code) => (
              <option key={code} value={code}>
                {regionNames.of(code) ?? code} ({code})
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Stop keywords"
          hint={`One per line. A contact who replies with one of these is opted out at once.${settings.stop_keywords_are_default ? " These are the defaults, in several languages." : ""}`}
          error={form.of("stop_keywords")}
        >
          <textarea rows={6} value={keywords} readOnly={!canManage} onChange={(e) => setKeywords(e.target.value)} />
        </Field>
        {canManage ? (
          <div className="actions">
            <button type="submit" className="button button--primary" disabled={save.isPending}>
              Save settings
            </button>
            {save.isSuccess ? (
              <span className="muted" role="status">
                Saved.
              </span>
            ) : null}
          </div>
        ) : null}
      </form>
    </Section>
  );
}

function ApiKeys() {
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: keys.apiKeys, queryFn: () => call(api.GET("/api/auth/api-keys")) });
  const [name, setName] = useState("");
  const [role, setRole] = useState<"admin" | "member">("member");
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const form = useFormErrors(["name", "role"]);
  const create = useMutation({
    mutationFn: () => call(api.POST("/api/auth/api-keys", { body: { name, role } })),
    onSuccess: async (key) => {
      setCreated(key);
      setName("");
      await queryClient.invalidateQueries({ queryKey: keys.apiKeys });
    },
    onError: (error) => form.fail(error),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/api/auth/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.apiKeys }),
    onError: (error) => setProblem(messageOf(error)),
  });
  return (
    <Section title="API keys">
      <p className="muted">For your own systems (a shop, a CRM) to send through wacast. Send the key as the X-Api-Key header.</p>
      {created ? <NewKey created={created} onDone={() => setCreated(null)} /> : null}
      {problem ? (
        <div className="notice notice--error" role="alert">
          {problem}
        </div>
      ) : null}
      {list.isPending ? <Loading /> : null}
      {list.isError ? <LoadError error={list.error} retry={() => list.refetch()} /> : null}
      {list.data && list.data.items.length === 0 ? <Empty title="No API key" /> : null}
      {list.data && list.data.items.length ? (
        <DataTable label="API keys" columns={["Name", "Key", "Role", "Created"]} actions>
          {list.data.items.map((key) => (
            <tr key={key.id}>
              <th scope="row">{key.name}</th>
              <td>
                <code>{key.hint}</code>
              </td>
              <td>
                <RoleBadge role={key.role} />
              </td>
              <td className="nowrap">{formatDateTime(key.created_at)}</td>
              <td className="cell-actions">
                <ConfirmButton
                  className="button--small"
                  question={`Revoke ${key.name}? It stops working at once.`}
                  confirmLabel="Revoke"
                  onConfirm={() => revoke.mutateAsync(key.id)}
                >
                  Revoke
                </ConfirmButton>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <form
        ref={form.formRef}
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          form.clear();
          create.mutate();
        }}
        noValidate
      >
        <FormError message={form.errors.general} />
        <Field label="New key's name" hint="What it is for, e.g. Shopify orders" error={form.of("name")}>
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="It may" error={form.of("role")}>
          <select value={role} onChange={(e) => setRole(e.target.value as "admin" | "member")}>
            <option value="member">send and read (member)</option>
            <option value="admin">also manage the account (admin)</option>
          </select>
        </Field>
        <button type="submit" className="button button--secondary" disabled={create.isPending}>
          Create key
        </button>
      </form>
    </Section>
  );
}

/** The new key, shown once: it is stored as a hash and cannot be shown again. */
function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  return (
    <ShownOnce value={created.key} copyLabel="Copy key" onDone={onDone}>
      <strong>{created.name}</strong>: copy this key now. It is shown only once.
    </ShownOnce>
  );
}

function Users() {
  const session = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"admin" | "member">("member");
  const [added, setAdded] = useState<{ email: string; role: string }[]>([]);
  const form = useFormErrors(["email", "password", "role"]);
  const add = useMutation({
    mutationFn: () => call(api.POST("/api/auth/users", { body: { email, password, role } })),
    onSuccess: (user) => {
      setAdded((list) => [...list, { email: user.email, role: user.role }]);
      setEmail("");
      setPassword("");
    },
    onError: (error) => form.fail(error),
  });
  return (
    <Section title="Users">
      <p className="muted">
        Owners and admins manage numbers, keys, users and settings; members run contacts, templates and campaigns.
      </p>
      <ul className="user-list">
        <li>
          {session?.user.email} <RoleBadge role={session?.user.role ?? ""} /> <span className="muted">(you)</span>
        </li>
        {added.map((u) => (
          <li key={u.email}>
            {u.email} <RoleBadge role={u.role} /> <span className="muted">added just now</span>
          </li>
        ))}
      </ul>
      <form
        ref={form.formRef}
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          form.clear();
          add.mutate();
        }}
        noValidate
      >
        <FormError message={form.errors.general} />
        <Field label="Email" error={form.of("email")}>
          <input type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="First password" hint="At least 8 characters; give it to them." error={form.of("password")}>
          <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <Field label="Role" error={form.of("role")}>
          <select value={role} onChange={(e) => setRole(e.target.value as "admin" | "member")}>
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
        </Field>
        <button type="submit" className="button button--secondary" disabled={add.isPending}>
          Add user
        </button>
      </form>
    </Section>
  );
}

function Operations() {
  const queryClient = useQueryClient();
  const stats = useQuery({ queryKey: keys.queueStats, queryFn: () => call(api.GET("/api/messages/queue/stats")), refetchInterval: LIVE_MS * 2 });
  const [problem, setProblem] = useState<string | null>(null);
  const [notOperator, setNotOperator] = useState(false);
  const redrive = useMutation({
    mutationFn: (queue: DlqName) => call(api.POST("/api/admin/dlq/{queue}/redrive", { params: { path: { queue } } })),
    onMutate: () => setProblem(null),
    onSuccess: (started) => {
      setProblem(null);
      void queryClient.invalidateQueries({ queryKey: ["redrives"] });
      void queryClient.invalidateQueries({ queryKey: keys.queueStats });
      return started;
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 403) setNotOperator(true);
      setProblem(messageOf(error));
    },
  });
  const queues = Object.entries(stats.data?.queues ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Section title="Queues (operators)">
      <p className="muted">
        Where messages wait. A dead-letter queue (-dlq) holds what failed repeatedly; an operator can move it back to be tried again.
      </p>
      {stats.isPending ? <Loading /> : null}
      {stats.isError ? <LoadError error={stats.error} retry={() => stats.refetch()} /> : null}
      {problem ? (
        <div className="notice notice--error" role="alert">
          {notOperator ? "Only operators can redrive a dead-letter queue. " : ""}
          {problem}
        </div>
      ) : null}
      {queues.length ? (
        <DataTable label="Queue depths" columns={["Queue", "Waiting", "Being handled", "Delayed"]} actions>
          {queues.map(([name, depth]) => {
            const dlq = name.endsWith("-dlq") ? (name.slice(0, -4) as DlqName) : null;
            return (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{formatNumber(depth.visible)}</td>
                <td>{formatNumber(depth.inFlight)}</td>
                <td>{formatNumber(depth.delayed)}</td>
                <td className="cell-actions">
                  {dlq && DLQS.includes(dlq) ? (
                    <ConfirmButton
                      className="button--small"
                      tone="default"
                      question={`Move every message of ${name} back to ${dlq}?`}
                      confirmLabel="Redrive"
                      onConfirm={() => redrive.mutateAsync(dlq).catch(() => undefined)}
                    >
                      Redrive
                    </ConfirmButton>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </DataTable>
      ) : null}
      {!notOperator ? <Redrives /> : null}
    </Section>
  );
}

function Redrives() {
  const history = useQuery({
    queryKey: ["redrives"],
    queryFn: async () => {
      const rows = await Promise.all(
        DLQS.map(async (queue) => (await call(api.GET("/api/admin/dlq/{queue}/redrives", { params: { path: { queue } } }))).map((r) => ({ queue, ...r }))),
      );
      return rows.flat().sort((a, b) => b.started_at.localeCompare(a.started_at));
    },
    retry: false,
    refetchInterval: LIVE_MS * 2,
  });
  if (history.isError) {
    return history.error instanceof ApiError && history.error.status === 403 ? (
      <p className="muted">Redrives are for operators: the accounts the installation names (OperatorAccounts).</p>
    ) : (
      <LoadError error={history.error} retry={() => history.refetch()} />
    );
  }
  if (!history.data || history.data.length === 0) return null;
  return (
    <DataTable label="Recent redrives" columns={["Queue", "Started", "Status", "Moved"]} showCaption>
      {history.data.slice(0, 10).map((r) => (
        <tr key={`${r.queue}-${r.started_at}`}>
          <td>{r.queue}</td>
          <td className="nowrap">{formatDateTime(r.started_at)}</td>
          <td>
            {r.status}
            {r.failure_reason ? <span className="cell-note">{r.failure_reason}</span> : null}
          </td>
          <td>
            {formatNumber(r.moved)}
            {r.to_move != null ? ` of ${formatNumber(r.to_move)}` : ""}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
