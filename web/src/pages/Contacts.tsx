import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, call, download } from "../api/client";
import { messageOf } from "../api/errors";
import { collect, contactsPage, useContactsPage } from "../api/queries";
import type { Contact } from "../api/types";
import { useSession } from "../auth/useSession";
import { ConfirmButton } from "../components/ConfirmButton";
import { Field } from "../components/Field";
import { Empty, FormError, LoadError, Loading, Notice } from "../components/feedback";
import { Page, Section } from "../components/Page";
import { Pager, useCursorPager } from "../components/Pager";
import { formatDateTime, formatNumber } from "../lib/format";
import { useFormErrors } from "../lib/useFormErrors";
import { DataTable } from "../components/DataTable";

/** How many contacts a search reads (the API has no search yet: the console filters what it reads). */
export const SEARCH_SCAN_LIMIT = 5000;

export function matches(contact: Contact, term: string): boolean {
  const needle = term.trim().toLowerCase();
  if (!needle) return true;
  const digits = needle.replace(/[^\d]/g, "");
  if (digits.length >= 3 && contact.phone.replace(/[^\d]/g, "").includes(digits)) return true;
  return [contact.name, contact.phone, ...contact.tags, ...Object.values(contact.attributes)].some((v) => v.toLowerCase().includes(needle));
}

export function Contacts() {
  const [params, setParams] = useSearchParams();
  const tag = params.get("tag") ?? "";
  const importBatch = params.get("import_batch") ?? "";
  const [search, setSearch] = useState(params.get("q") ?? "");
  const [term, setTerm] = useState(search);
  const [adding, setAdding] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const pager = useCursorPager();
  const session = useSession();

  useEffect(() => {
    const timer = window.setTimeout(() => setTerm(search), 300);
    return () => window.clearTimeout(timer);
  }, [search]);
  // a new filter starts at the first page
  useEffect(() => pager.reset(), [tag, importBatch]);

  const page = useContactsPage({ tag, import_batch: importBatch, cursor: pager.cursor });
  const scan = useQuery({
    queryKey: ["contacts", "scan", tag, importBatch],
    queryFn: () => collect((cursor) => contactsPage({ tag: tag || undefined, import_batch: importBatch || undefined }, cursor), SEARCH_SCAN_LIMIT),
    enabled: term.trim().length > 0,
    staleTime: 30_000,
  });
  const searching = term.trim().length > 0;
  const found = useMemo(() => (scan.data ? scan.data.items.filter((c) => matches(c, term)) : []), [scan.data, term]);
  const rows = searching ? found.slice(0, 200) : (page.data?.items ?? []);

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const exportCsv = async () => {
    setExportError(null);
    const query = new URLSearchParams();
    if (tag) query.set("tag", tag);
    if (importBatch) query.set("import_batch", importBatch);
    try {
      await download(`/api/contacts/export${query.size ? `?${query}` : ""}`, tag ? `contacts-${tag}.csv` : "contacts.csv");
    } catch (error) {
      setExportError(messageOf(error));
    }
  };

  return (
    <Page
      title="Contacts"
      lead="The people you message. A contact is a phone number; opted-out numbers are never messaged."
      actions={
        <>
          <Link className="button button--primary" to="/contacts/import">
            Import a CSV
          </Link>
          <button type="button" className="button button--secondary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
            Add a contact
          </button>
          <button type="button" className="button button--secondary" onClick={exportCsv}>
            Export CSV
          </button>
        </>
      }
    >
      {exportError ? (
        <div className="notice notice--error" role="alert">
          {exportError}
        </div>
      ) : null}
      {adding ? <AddContact onDone={() => setAdding(false)} /> : null}

      <div className="toolbar" role="search">
        <Field label="Search" hint="Name, phone, tag or any field.">
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </Field>
        <Field label="Tag">
          <input type="text" value={tag} onChange={(e) => setFilter("tag", e.target.value.trim().toLowerCase())} placeholder="any tag" />
        </Field>
        {importBatch ? (
          <div className="filter-chip">
            <span>From import {importBatch}</span>
            <button type="button" className="button button--small button--secondary" onClick={() => setFilter("import_batch", "")}>
              Show all
            </button>
          </div>
        ) : null}
      </div>

      {searching && scan.data ? (
        <p className="muted" role="status">
          {formatNumber(found.length)} match{found.length === 1 ? "" : "es"} in {formatNumber(scan.data.items.length)} contacts
          {scan.data.complete ? "" : ` (the first ${formatNumber(SEARCH_SCAN_LIMIT)} only)`}
          {found.length > 200 ? "; showing 200" : ""}.
        </p>
      ) : null}
      {(searching ? scan.isPending : page.isPending) ? <Loading /> : null}
      {page.isError && !searching ? <LoadError error={page.error} retry={() => page.refetch()} /> : null}
      {scan.isError && searching ? <LoadError error={scan.error} retry={() => scan.refetch()} /> : null}
      {!searching && page.data && page.data.items.length === 0 && pager.page === 1 ? (
        <Empty title={tag || importBatch ? "No contact matches this filter" : "No contacts yet"}>
          {tag || importBatch ? null : (
            <p>
              <Link to="/contacts/import">Import a spreadsheet</Link> (CSV) with a phone column, or add contacts one by one.
            </p>
          )}
        </Empty>
      ) : null}
      {rows.length > 0 ? <ContactTable contacts={rows} canOptIn={session?.user.role !== "member"} /> : null}
      {!searching && page.data ? (
        <Pager
          label="Contact pages"
          page={pager.page}
          hasNext={!!page.data.next_cursor}
          onNext={() => page.data?.next_cursor && pager.next(page.data.next_cursor)}
          onPrevious={pager.previous}
        />
      ) : null}
      <OptOutByPhone />
    </Page>
  );
}

function ContactTable({ contacts, canOptIn }: { contacts: Contact[]; canOptIn: boolean }) {
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["contacts"] });
  const optOut = useMutation({
    mutationFn: (phone: string) => call(api.POST("/api/contacts/opt-out", { body: { phone, source: "console" } })),
    onSuccess: refresh,
    onError: (error) => setProblem(messageOf(error)),
  });
  const optIn = useMutation({
    mutationFn: (phone: string) => call(api.POST("/api/contacts/opt-in", { body: { phone } })),
    onSuccess: refresh,
    onError: (error) => setProblem(messageOf(error)),
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/api/contacts/{contact_id}", { params: { path: { contact_id: id } } })),
    onSuccess: refresh,
    onError: (error) => setProblem(messageOf(error)),
  });
  return (
    <>
      {problem ? (
        <div className="notice notice--error" role="alert">
          {problem}
        </div>
      ) : null}
      <DataTable label="Contacts" columns={["Name", "Phone", "Tags", "Fields", "Status"]} actions className="contacts-table stack-on-phone">
        {contacts.map((contact) => (
          <tr key={contact.id}>
            <th scope="row">{contact.name || <span className="muted">no name</span>}</th>
            <td data-label="Phone" className="nowrap">{contact.phone}</td>
            <td data-label="Tags">
              {contact.tags.map((t) => (
                <span className="tag" key={t}>
                  {t}
                </span>
              ))}
            </td>
            <td data-label="Fields" className="attributes">
              {Object.entries(contact.attributes)
                .slice(0, 4)
                .map(([k, v]) => (
                  <span key={k}>
                    <span className="muted">{k}:</span> {v}
                  </span>
                ))}
            </td>
            <td data-label="Status">
              {contact.opted_out ? (
                <span className="badge badge--danger" title={`since ${formatDateTime(contact.opted_out_at)} (${contact.opted_out_source ?? "?"})`}>
                  Opted out
                </span>
              ) : (
                <span className="badge badge--success">Can receive</span>
              )}
            </td>
            <td className="cell-actions">
              {contact.opted_out ? (
                canOptIn ? (
                  <ConfirmButton
                    className="button--small"
                    tone="default"
                    question="Only when they asked to hear from you again. Opt in?"
                    confirmLabel="Opt in"
                    onConfirm={() => optIn.mutateAsync(contact.phone)}
                  >
                    Opt in
                  </ConfirmButton>
                ) : null
              ) : (
                <button
                  type="button"
                  className="button button--small button--secondary"
                  onClick={() => optOut.mutate(contact.phone)}
                  aria-label={`Opt out ${contact.name || contact.phone}`}
                >
                  Opt out
                </button>
              )}
              <ConfirmButton
                className="button--small"
                question={`Delete ${contact.name || contact.phone}?`}
                confirmLabel="Delete"
                onConfirm={() => remove.mutateAsync(contact.id)}
              >
                Delete
              </ConfirmButton>
            </td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}

function AddContact({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [phone, setPhone] = useState("");
  const [name, setName] = useState("");
  const [tags, setTags] = useState("");
  const form = useFormErrors(["phone", "name", "tags", "attributes"]);
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST("/api/contacts", {
          body: {
            phone,
            name,
            tags: tags
              .split(",")
              .map((t) => t.trim())
              .filter(Boolean),
          },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["contacts"] });
      onDone();
    },
    onError: (error) => form.fail(error),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    create.mutate();
  };
  return (
    <Section title="Add a contact">
      <form ref={form.formRef} onSubmit={submit} noValidate>
        <FormError message={form.errors.general} />
        <div className="row">
          <Field label="Phone" hint="With the country code, or a national number in your default country." error={form.of("phone")}>
            <input type="tel" required value={phone} onChange={(e) => setPhone(e.target.value)} />
          </Field>
          <Field label="Name" error={form.of("name")}>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Tags" hint="Separated by commas." error={form.of("tags")}>
            <input type="text" value={tags} onChange={(e) => setTags(e.target.value)} />
          </Field>
        </div>
        <div className="actions">
          <button type="submit" className="button button--primary" disabled={create.isPending}>
            Add contact
          </button>
          <button type="button" className="button button--secondary" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </Section>
  );
}

/** Opt a phone out (or back in) whether or not it is a contact: the account's opt-out list. */
function OptOutByPhone() {
  const queryClient = useQueryClient();
  const [phone, setPhone] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const form = useFormErrors(["phone"]);
  const optOut = useMutation({
    mutationFn: () => call(api.POST("/api/contacts/opt-out", { body: { phone, source: "console" } })),
    onSuccess: async (result) => {
      setDone(`${result.phone} is opted out: no campaign will message it.`);
      setPhone("");
      await queryClient.invalidateQueries({ queryKey: ["contacts"] });
    },
    onError: (error) => form.fail(error),
  });
  return (
    <Section title="Opt-out list">
      <p className="muted">
        Anyone who replies with a stop keyword is opted out by themselves. Add a number someone asked you not to message, even if it is not
        a contact.
      </p>
      <form
        ref={form.formRef}
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          form.clear();
          setDone(null);
          optOut.mutate();
        }}
        noValidate
      >
        <FormError message={form.errors.general} />
        <Field label="Phone to opt out" error={form.of("phone")}>
          <input type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} />
        </Field>
        <button type="submit" className="button button--secondary" disabled={optOut.isPending}>
          Opt out
        </button>
      </form>
      {done ? <Notice tone="success" live>{done}</Notice> : null}
    </Section>
  );
}
