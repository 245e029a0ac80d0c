import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, call } from "../api/client";
import { ApiError, messageOf } from "../api/errors";
import { contactsPage, keys, useTemplates } from "../api/queries";
import type { Template } from "../api/types";
import { ConfirmButton } from "../components/ConfirmButton";
import { Field } from "../components/Field";
import { Empty, FormError, LoadError, Loading } from "../components/feedback";
import { Page, Section } from "../components/Page";
import { BodyEditor, LivePreview } from "../components/TemplateBody";
import { formatDateTime } from "../lib/format";
import { parse } from "../lib/template";
import { useFormErrors } from "../lib/useFormErrors";

export function Templates() {
  const templates = useTemplates();
  const own = templates.data?.filter((t) => !t.builtin) ?? [];
  const starters = templates.data?.filter((t) => t.builtin) ?? [];
  return (
    <Page
      title="Templates"
      lead="Messages you send again and again, with {{variables}} filled in for each contact."
      actions={
        <Link className="button button--primary" to="/templates/new">
          New template
        </Link>
      }
    >
      {templates.isPending ? <Loading /> : null}
      {templates.isError ? <LoadError error={templates.error} retry={() => templates.refetch()} /> : null}
      {templates.data ? (
        <>
          <Section title="Your templates">
            {own.length === 0 ? (
              <Empty title="No template yet">
                <p>Write one, or start from one of the starters below.</p>
              </Empty>
            ) : (
              <TemplateList templates={own} />
            )}
          </Section>
          <Section title="Starters">
            <TemplateList templates={starters} />
          </Section>
        </>
      ) : null}
    </Page>
  );
}

function TemplateList({ templates }: { templates: Template[] }) {
  return (
    <ul className="template-list">
      {templates.map((t) => (
        <li key={t.id}>
          <div>
            <h3>
              <Link to={`/templates/${t.id}`}>{t.name}</Link>
            </h3>
            <p className="template-body">{t.body}</p>
            <p className="muted">
              {t.variables.length ? `Variables: ${t.variables.join(", ")}` : "No variables"}
              {t.builtin ? "" : ` · changed ${formatDateTime(t.updated_at)}`}
            </p>
          </div>
          <div className="list-actions">
            {t.builtin ? (
              <Link className="button button--secondary button--small" to={`/templates/new?from=${t.id}`}>
                Use as a start
              </Link>
            ) : null}
            <Link className="button button--secondary button--small" to={`/campaigns/new?template_id=${t.id}`}>
              Send in a campaign
            </Link>
          </div>
        </li>
      ))}
    </ul>
  );
}

export function TemplateEditor() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const from = params.get("from");
  const existing = useQuery({
    queryKey: keys.template(id ?? from ?? ""),
    queryFn: () => call(api.GET("/api/templates/{template_id}", { params: { path: { template_id: id ?? from ?? "" } } })),
    enabled: !!(id ?? from),
  });
  if ((id || from) && existing.isPending) return <Loading />;
  if (existing.isError) return <LoadError error={existing.error} retry={() => existing.refetch()} />;
  const template = existing.data ?? null;
  return <EditorForm key={template?.id ?? "new"} template={id ? template : null} start={from ? template : null} />;
}

function EditorForm({ template, start }: { template: Template | null; start: Template | null }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const readOnly = !!template?.builtin;
  const [name, setName] = useState(template?.name ?? (start ? `${start.name} (copy)` : ""));
  const [body, setBody] = useState(template?.body ?? start?.body ?? "");
  const [saved, setSaved] = useState<Template | null>(template);
  const [apiPosition, setApiPosition] = useState<{ line: number; column: number } | null>(null);
  const form = useFormErrors(["name", "body"]);
  const contacts = useQuery({ queryKey: ["contacts", "preview-list"], queryFn: () => contactsPage({}, undefined, 100) });
  const attributeNames = [...new Set((contacts.data?.items ?? []).flatMap((c) => Object.keys(c.attributes)))];
  const unchanged = !!saved && saved.body === body && saved.name === name;

  useEffect(() => setApiPosition(null), [body]);

  const save = useMutation({
    mutationFn: () =>
      saved
        ? call(api.PATCH("/api/templates/{template_id}", { params: { path: { template_id: saved.id } }, body: { name, body } }))
        : call(api.POST("/api/templates", { body: { name, body } })),
    onSuccess: async (result) => {
      setSaved(result);
      await queryClient.invalidateQueries({ queryKey: keys.templates });
      queryClient.setQueryData(keys.template(result.id), result);
      if (!template) navigate(`/templates/${result.id}`, { replace: true });
    },
    onError: (error) => {
      form.fail(error);
      if (error instanceof ApiError) setApiPosition(error.bodyPosition());
    },
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE("/api/templates/{template_id}", { params: { path: { template_id: saved?.id ?? "" } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.templates });
      navigate("/templates");
    },
    onError: (error) => form.set({}, messageOf(error)),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    form.clear();
    const parsed = parse(body);
    const fields: Record<string, string> = {};
    if (!name.trim()) fields.name = "Give the template a name.";
    if (!body.trim()) fields.body = "Write the message.";
    if (!parsed.ok) fields.body = `Line ${parsed.problem.line}, column ${parsed.problem.column}: ${parsed.problem.message}`;
    if (Object.keys(fields).length) return form.set(fields);
    save.mutate();
  };

  return (
    <Page
      title={readOnly ? (template?.name ?? "Template") : saved ? `Edit: ${saved.name}` : "New template"}
      lead={readOnly ? "A starter template: read-only. Use it as a start to make your own." : undefined}
      actions={
        <Link className="button button--secondary" to="/templates">
          All templates
        </Link>
      }
    >
      <div className="editor-grid">
        <form ref={form.formRef} className="card" onSubmit={submit} noValidate>
          <FormError message={form.errors.general} />
          <Field label="Name" error={form.of("name")}>
            <input type="text" value={name} readOnly={readOnly} onChange={(e) => setName(e.target.value)} />
          </Field>
          <BodyEditor
            body={body}
            onChange={setBody}
            apiError={form.of("body")}
            apiPosition={apiPosition}
            suggestions={attributeNames}
            readOnly={readOnly}
          />
          <div className="actions">
            {readOnly ? (
              <Link className="button button--primary" to={`/templates/new?from=${template?.id}`}>
                Use as a start
              </Link>
            ) : (
              <button type="submit" className="button button--primary" disabled={save.isPending}>
                {save.isPending ? "Saving…" : unchanged ? "Saved" : "Save template"}
              </button>
            )}
            {saved ? (
              <Link className="button button--secondary" to={`/campaigns/new?template_id=${saved.id}`}>
                Send in a campaign
              </Link>
            ) : null}
            {saved && !readOnly ? (
              <ConfirmButton question="Delete this template?" confirmLabel="Delete" onConfirm={() => remove.mutateAsync()}>
                Delete
              </ConfirmButton>
            ) : null}
          </div>
          {save.isSuccess && unchanged ? (
            <p className="muted" role="status">
              Saved.
            </p>
          ) : null}
        </form>
        <section className="card" aria-labelledby="preview-title">
          <h2 id="preview-title">Preview</h2>
          <LivePreview body={body} savedTemplateId={unchanged || readOnly ? (saved?.id ?? null) : null} contacts={contacts.data?.items ?? []} />
        </section>
      </div>
    </Page>
  );
}
