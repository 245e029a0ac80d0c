import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { api, call } from "../api/client";
import { ApiError } from "../api/errors";
import { contactsPage } from "../api/queries";
import type { Contact } from "../api/types";
import { MAX_BODY, contactValues, parse, render, variables, type SyntaxProblem } from "../lib/template";
import { Field } from "./Field";

/** Where a body is at fault, drawn under the text: the line, and a caret under the column. */
export function ProblemMarker({ body, problem }: { body: string; problem: { line: number; column: number; message: string } }) {
  const line = body.split("\n")[problem.line - 1] ?? "";
  return (
    <div className="problem-marker" aria-hidden="true">
      <span className="problem-where">
        Line {problem.line}, column {problem.column}
      </span>
      <pre>
        <code>
          {line}
          {"\n"}
          {" ".repeat(Math.max(0, problem.column - 1))}^
        </code>
      </pre>
    </div>
  );
}

interface BodyEditorProps {
  label?: string;
  body: string;
  onChange: (body: string) => void;
  /** The API's error for the body (its message names the line and column). */
  apiError?: string | undefined;
  /** The API's position for that error. */
  apiPosition?: { line: number; column: number } | null | undefined;
  suggestions?: string[];
  readOnly?: boolean;
}

/** The message text with `{{variables}}`: checked as you type, its problem shown at its line and column. */
export function BodyEditor({ label = "Message", body, onChange, apiError, apiPosition, suggestions = [], readOnly }: BodyEditorProps) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const parsed = parse(body);
  const local: SyntaxProblem | null = parsed.ok ? null : parsed.problem;
  const error = local ? `Line ${local.line}, column ${local.column}: ${local.message}` : apiError;
  const marker = local ?? (apiError && apiPosition ? { ...apiPosition, message: apiError } : null);
  const insert = (name: string) => {
    const area = ref.current;
    const token = `{{${name}}}`;
    const start = area?.selectionStart ?? body.length;
    const end = area?.selectionEnd ?? body.length;
    onChange(body.slice(0, start) + token + body.slice(end));
    requestAnimationFrame(() => {
      area?.focus();
      area?.setSelectionRange(start + token.length, start + token.length);
    });
  };
  const vars = ["first_name", "name", "phone", ...suggestions].filter((v, i, all) => all.indexOf(v) === i);
  return (
    <div className="body-editor">
      <Field
        label={label}
        hint={
          <>
            Write <code>{"{{name}}"}</code> for a contact&apos;s value, <code>{"{{name|there}}"}</code> for a value with a default. A
            contact with no value and no default gets no message (it is marked failed).
          </>
        }
        error={error}
      >
        <textarea ref={ref} rows={7} value={body} readOnly={readOnly} maxLength={MAX_BODY} onChange={(e) => onChange(e.target.value)} spellCheck />
      </Field>
      {marker ? <ProblemMarker body={body} problem={marker} /> : null}
      <div className="body-tools">
        {!readOnly ? (
          <div className="insert-vars" role="group" aria-label="Insert a variable">
            <span className="muted">Insert:</span>
            {vars.map((v) => (
              <button key={v} type="button" className="chip" onClick={() => insert(v)}>
                {`{{${v}}}`}
              </button>
            ))}
          </div>
        ) : null}
        <span className="muted counter">
          {Array.from(body).length} / {MAX_BODY}
        </span>
      </div>
    </div>
  );
}

/** A WhatsApp-like bubble with the text a chosen contact would get. */
export function Bubble({ text }: { text: string }) {
  return (
    <div className="bubble-frame">
      <p className="bubble">{text}</p>
    </div>
  );
}

interface LivePreviewProps {
  body: string;
  /** A saved template whose body is unchanged: the API renders the preview. */
  savedTemplateId?: string | null;
  /** The contacts to choose from (default: the account's first 100). */
  contacts?: Contact[];
  /** What to say when there is no contact to choose. */
  emptyHint?: string;
}

/** The message as a chosen contact would get it, with sample values for variables the contact lacks. */
export function LivePreview({ body, savedTemplateId, contacts, emptyHint }: LivePreviewProps) {
  const listed = useQuery({
    queryKey: ["contacts", "preview-list"],
    queryFn: () => contactsPage({}, undefined, 100),
    enabled: !contacts,
  });
  const options = contacts ?? listed.data?.items ?? [];
  // null: not chosen yet, so the first contact offered; "": sample values only
  const [chosen, setChosen] = useState<string | null>(null);
  const contactId = chosen ?? options[0]?.id ?? "";
  const [samples, setSamples] = useState<Record<string, string>>({});
  const contact = options.find((c) => c.id === contactId) ?? null;
  const values = { ...(contact ? contactValues(contact) : {}), ...Object.fromEntries(Object.entries(samples).filter(([, v]) => v.trim())) };
  const names = variables(body);
  const local = render(body, values);

  const server = useQuery({
    queryKey: ["templates", savedTemplateId, "preview", contactId, samples],
    queryFn: async () => {
      try {
        return { text: (await call(api.POST("/api/templates/{template_id}/preview", { params: { path: { template_id: savedTemplateId ?? "" } }, body: { contact_id: contactId || null, values: Object.fromEntries(Object.entries(samples).filter(([, v]) => v.trim())) } }))).text, error: null };
      } catch (error) {
        if (error instanceof ApiError && error.status === 422) return { text: null, error: error.message };
        throw error;
      }
    },
    enabled: !!savedTemplateId,
  });

  let shown: React.ReactNode;
  if (!body.trim()) {
    shown = <p className="muted">Write the message to see it here.</p>;
  } else if (savedTemplateId && server.data) {
    shown = server.data.text !== null ? <Bubble text={server.data.text} /> : <p className="field-error">{server.data.error}</p>;
  } else if (local.ok) {
    shown = <Bubble text={local.text} />;
  } else if ("missing" in local) {
    shown = (
      <p className="field-error">
        No value for {local.missing.map((m) => `{{${m}}}`).join(", ")} and no default: this contact would get no message. Pick another contact,
        type a sample value, or give the variable a default.
      </p>
    );
  } else {
    shown = <p className="muted">Fix the message to see it.</p>;
  }

  return (
    <div className="preview" aria-live="polite">
      <Field label="Preview for" hint={options.length ? undefined : (emptyHint ?? "Import contacts to preview with their values.")}>
        <select value={contactId} onChange={(e) => setChosen(e.target.value)}>
          <option value="">Sample values only</option>
          {options.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name ? `${c.name} (${c.phone})` : c.phone}
            </option>
          ))}
        </select>
      </Field>
      {names.length ? (
        <details className="samples">
          <summary>Sample values</summary>
          {names.map((name) => (
            <Field key={name} label={`{{${name}}}`} hint={contact && contactValues(contact)[name] ? `The contact has: ${contactValues(contact)[name]}` : undefined}>
              <input type="text" value={samples[name] ?? ""} onChange={(e) => setSamples((s) => ({ ...s, [name]: e.target.value }))} />
            </Field>
          ))}
        </details>
      ) : null}
      <p className="preview-source muted">{savedTemplateId ? "Rendered by wacast, as it will be sent." : "Draft preview (checked again by wacast when you save)."}</p>
      {shown}
    </div>
  );
}
