import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type DragEvent } from "react";
import { Link } from "react-router";
import { api, call } from "../api/client";
import type { ImportReport } from "../api/types";
import { useSession } from "../auth/useSession";
import { Field } from "../components/Field";
import { FormError, Notice } from "../components/feedback";
import { Page, Section } from "../components/Page";
import {
  ROLE_LABELS,
  applyMapping,
  attributeKey,
  defaultMapping,
  isDefaultMapping,
  mappingProblems,
  previewCsv,
  type ColumnRole,
  type CsvPreview,
  type Mapping,
} from "../lib/csv";
import { formatNumber } from "../lib/format";
import { rememberImport } from "../lib/imports";
import { useFormErrors } from "../lib/useFormErrors";
import { TableWrap } from "../components/TableWrap";

/** The API's limit for a file sent directly (larger files will go through S3: docs/console.md). */
const MAX_BYTES = 16 * 1024 * 1024;

interface Loaded {
  file: File;
  text: string;
  preview: CsvPreview;
}

export function ImportContacts() {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [mapping, setMapping] = useState<Mapping | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const form = useFormErrors(["file"]);
  const queryClient = useQueryClient();
  const session = useSession();
  const inputId = useId();

  const read = async (file: File | undefined) => {
    setReport(null);
    setReadError(null);
    form.clear();
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setLoaded(null);
      setReadError(`${file.name} is larger than 16 MiB: split it into smaller files.`);
      return;
    }
    const text = await file.text();
    const preview = previewCsv(text);
    if (preview.header.length === 0) {
      setLoaded(null);
      setReadError(`${file.name} is empty.`);
      return;
    }
    setLoaded({ file, text, preview });
    setMapping(defaultMapping(preview.header));
  };

  const upload = useMutation({
    mutationFn: async () => {
      if (!loaded || !mapping) throw new Error("choose a file first");
      const unchanged = isDefaultMapping(loaded.preview.header, mapping);
      const file = unchanged ? loaded.file : new File([applyMapping(loaded.text, mapping)], loaded.file.name, { type: "text/csv" });
      return call(
        api.POST("/api/contacts/import", {
          body: { file: file as unknown as string },
          bodySerializer: () => {
            const data = new FormData();
            data.append("file", file, file.name);
            return data;
          },
        }),
      );
    },
    onSuccess: async (result) => {
      setReport(result);
      if (session && loaded) {
        rememberImport(session.account.id, { batch: result.import_batch, fileName: loaded.file.name, rows: result.rows, at: new Date().toISOString() });
      }
      await queryClient.invalidateQueries({ queryKey: ["contacts"] });
    },
    onError: (error) => form.fail(error),
  });

  const problems = mapping ? mappingProblems(mapping) : [];
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void read(event.dataTransfer.files[0]);
  };

  return (
    <Page
      title="Import contacts"
      lead="A CSV from any spreadsheet: a phone column, and any of name, tags, an opt-in column and your own fields (they become {{variables}})."
      actions={
        <Link className="button button--secondary" to="/contacts">
          Back to contacts
        </Link>
      }
    >
      <Section title="1. Choose the file">
        <div
          className={`dropzone${dragging ? " dropzone--over" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <Field
            id={inputId}
            label="CSV file"
            hint="UTF-8, comma or semicolon separated, first row the column names. Up to 100,000 rows. Or drop the file here."
            error={form.of("file") ?? readError}
          >
            <input type="file" accept=".csv,text/csv,text/plain" onChange={(e) => void read(e.target.files?.[0])} />
          </Field>
        </div>
      </Section>

      {loaded && mapping ? (
        <Section title="2. Check the columns">
          <p className="muted">
            {loaded.file.name}: {formatNumber(loaded.preview.rowCount)} row{loaded.preview.rowCount === 1 ? "" : "s"}. The first{" "}
            {loaded.preview.rows.length} are shown. Each column&apos;s use is chosen from its name; change it if it is wrong.
          </p>
          {loaded.preview.problems.length ? (
            <Notice tone="warning">
              The file may be malformed: {loaded.preview.problems.join("; ")}. The import reports every row it cannot read.
            </Notice>
          ) : null}
          <MappingTable preview={loaded.preview} mapping={mapping} onChange={setMapping} />
          {problems.length ? (
            <ul className="field-error" aria-live="polite">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
          <form
            ref={form.formRef}
            onSubmit={(event) => {
              event.preventDefault();
              form.clear();
              upload.mutate();
            }}
          >
            <FormError message={form.errors.general} />
            <div className="actions">
              <button type="submit" className="button button--primary" disabled={problems.length > 0 || upload.isPending}>
                {upload.isPending ? "Importing…" : `Import ${formatNumber(loaded.preview.rowCount)} rows`}
              </button>
            </div>
          </form>
        </Section>
      ) : null}

      {report ? <ImportResult report={report} /> : null}
    </Page>
  );
}

function MappingTable({ preview, mapping, onChange }: { preview: CsvPreview; mapping: Mapping; onChange: (m: Mapping) => void }) {
  const setRole = (index: number, role: ColumnRole) => {
    const roles = [...mapping.roles];
    roles[index] = role;
    onChange({ ...mapping, roles });
  };
  const setName = (index: number, name: string) => {
    const names = [...mapping.names];
    names[index] = name;
    onChange({ ...mapping, names });
  };
  return (
    <TableWrap label="Columns of the file">
      <table className="mapping-table">
        <caption className="visually-hidden">Columns of the file, what each becomes, and the first rows</caption>
        <thead>
          <tr>
            {preview.header.map((header, index) => (
              <th scope="col" key={index}>
                <span className="column-name">{header || `Column ${index + 1}`}</span>
                <label className="visually-hidden" htmlFor={`role-${index}`}>
                  Use of column {header || index + 1}
                </label>
                <select id={`role-${index}`} value={mapping.roles[index]} onChange={(e) => setRole(index, e.target.value as ColumnRole)}>
                  {(Object.keys(ROLE_LABELS) as ColumnRole[]).map((role) => (
                    <option key={role} value={role}>
                      {ROLE_LABELS[role]}
                    </option>
                  ))}
                </select>
                {mapping.roles[index] === "attribute" ? (
                  <>
                    <label className="visually-hidden" htmlFor={`name-${index}`}>
                      Field name for column {header || index + 1}
                    </label>
                    <input
                      id={`name-${index}`}
                      className="field-name"
                      value={mapping.names[index] ?? ""}
                      onChange={(e) => setName(index, e.target.value)}
                    />
                    <span className="hint">{`{{${attributeKey(mapping.names[index] ?? "") || "?"}}}`}</span>
                  </>
                ) : null}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {preview.rows.map((row, r) => (
            <tr key={r}>
              {preview.header.map((_, c) => (
                <td key={c} className={mapping.roles[c] === "ignore" ? "muted" : undefined}>
                  {row[c] ?? ""}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function ImportResult({ report }: { report: ImportReport }) {
  const tiles: [string, number][] = [
    ["Rows read", report.rows],
    ["New contacts", report.imported],
    ["Updated", report.updated],
    ["Already there", report.duplicate],
    ["Opted out", report.opted_out],
    ["Rejected", report.rejected.length],
  ];
  return (
    <section className="card" aria-labelledby="report-title">
      <div className="card-header">
        <h2 id="report-title">3. Result</h2>
      </div>
      <div role="status">
        <Notice tone={report.rejected.length ? "warning" : "success"}>
          Imported {formatNumber(report.imported + report.updated)} contact{report.imported + report.updated === 1 ? "" : "s"}
          {report.rejected.length ? `; ${formatNumber(report.rejected.length)} row${report.rejected.length === 1 ? " was" : "s were"} rejected` : ""}.
        </Notice>
      </div>
      <dl className="tiles">
        {tiles.map(([label, value]) => (
          <div className="tile" key={label}>
            <dt>{label}</dt>
            <dd>{formatNumber(value)}</dd>
          </div>
        ))}
      </dl>
      {report.ignored_columns.length ? <p className="muted">Columns not imported: {report.ignored_columns.join(", ")}.</p> : null}
      {report.rejected.length ? (
        <TableWrap label="Rejected rows">
          <table>
            <caption>Rejected rows (line numbers of your file; the header is line 1)</caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Column</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {report.rejected.map((row) => (
                <tr key={`${row.line}-${row.field ?? ""}`}>
                  <td>{row.line}</td>
                  <td>{row.field ?? "—"}</td>
                  <td>{row.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <div className="actions">
        <Link className="button button--primary" to={`/campaigns/new?import_batch=${report.import_batch}`}>
          Send these contacts a campaign
        </Link>
        <Link className="button button--secondary" to={`/contacts?import_batch=${report.import_batch}`}>
          See the imported contacts
        </Link>
      </div>
      <p className="hint">Importing the same file again changes nothing: the import is known by its content ({report.import_batch}).</p>
    </section>
  );
}
