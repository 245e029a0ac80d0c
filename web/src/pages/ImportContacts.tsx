import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState, type DragEvent } from "react";
import { Link } from "react-router";
import { api, call } from "../api/client";
import type { ImportJob, ImportReport } from "../api/types";
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

/** The largest file the import takes (through S3), and the largest sent straight to the API, which must fit
 * a Lambda request once base64-encoded (docs/files.md): a bigger file goes to S3 through a presigned PUT,
 * and the import runs as a job the page follows. */
const MAX_BYTES = 50 * 1024 * 1024;
const DIRECT_MAX_BYTES = 4 * 1024 * 1024;

/** Puts the file in S3 through a presigned PUT and starts the import job: the job's id. */
async function uploadThroughS3(file: File): Promise<string> {
  const job = await call(api.POST("/api/contacts/imports", { body: { filename: file.name, size_bytes: file.size } }));
  const put = await fetch(job.upload.url, { method: job.upload.method, headers: job.upload.headers, body: file });
  if (!put.ok) throw new Error(`The upload of ${file.name} failed (storage answered ${put.status}). Try again.`);
  await call(api.POST("/api/contacts/imports/{import_id}/start", { params: { path: { import_id: job.id } } }));
  return job.id;
}

/** A finished import job's report in the shape of the direct import's (its first rejected rows only). */
function reportOf(job: ImportJob): ImportReport | null {
  if (!job.report || !job.import_batch) return null;
  return {
    import_batch: job.import_batch,
    rows: job.report.rows,
    imported: job.report.imported,
    updated: job.report.updated,
    duplicate: job.report.duplicate,
    opted_out: job.report.opted_out,
    rejected: job.rejected_sample,
    ignored_columns: job.ignored_columns,
  } as ImportReport;
}

interface Loaded {
  file: File;
  text: string;
  preview: CsvPreview;
}

export function ImportContacts() {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [mapping, setMapping] = useState<Mapping | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const form = useFormErrors(["file"]);
  const queryClient = useQueryClient();
  const session = useSession();
  const inputId = useId();

  const read = async (file: File | undefined) => {
    setReport(null);
    setJobId(null);
    setReadError(null);
    form.clear();
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setLoaded(null);
      setReadError(`${file.name} is larger than 50 MiB: split it into smaller files.`);
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
      if (file.size > DIRECT_MAX_BYTES) return { job: await uploadThroughS3(file) };
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
      if ("job" in result) {
        setJobId(result.job);
        return;
      }
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

      {jobId && loaded ? <ImportJobProgress id={jobId} fileName={loaded.file.name} /> : null}
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

/** A big file's import, followed until it is done: checked first, then written a chunk at a time. */
function ImportJobProgress({ id, fileName }: { id: string; fileName: string }) {
  const queryClient = useQueryClient();
  const session = useSession();
  const job = useQuery({
    queryKey: ["contact-import", id],
    queryFn: () => call(api.GET("/api/contacts/imports/{import_id}", { params: { path: { import_id: id } } })),
    refetchInterval: (query) => (query.state.data?.status === "completed" || query.state.data?.status === "failed" ? false : 2_000),
  });
  const data = job.data;
  const report = data?.status === "completed" ? reportOf(data) : null;
  useEffect(() => {
    if (!report || !session) return;
    rememberImport(session.account.id, { batch: report.import_batch, fileName, rows: report.rows, at: new Date().toISOString() });
    void queryClient.invalidateQueries({ queryKey: ["contacts"] });
  }, [report?.import_batch]);
  if (report && data) return <ImportResult report={report} rejectedTotal={data.report?.rejected} rejectedCsvUrl={data.rejected_csv_url} />;
  return (
    <section className="card" aria-labelledby="job-title">
      <h2 id="job-title">3. Importing</h2>
      {job.isError ? <Notice tone="error">{job.error.message}</Notice> : null}
      {data?.status === "failed" ? (
        <Notice tone="error">
          {fileName} could not be imported: {data.error?.reason ?? "the file is unusable"}. Nothing was written.
        </Notice>
      ) : (
        <div className="progress-block" role="status">
          <progress max={data?.rows_total || 1} value={data?.rows_total ? data.rows_done : undefined} aria-label="Rows written" />
          <p className="progress-label">
            {!data || data.status === "queued" || data.status === "awaiting_upload"
              ? `${fileName} is uploaded; the import starts in a moment.`
              : data.status === "checking"
                ? "Checking every row before anything is written…"
                : `Written ${formatNumber(data.rows_done)} of ${formatNumber(data.rows_total ?? 0)} rows.`}
          </p>
        </div>
      )}
    </section>
  );
}

function ImportResult({ report, rejectedTotal, rejectedCsvUrl }: { report: ImportReport; rejectedTotal?: number; rejectedCsvUrl?: string | null }) {
  const rejected = rejectedTotal ?? report.rejected.length;
  const tiles: [string, number][] = [
    ["Rows read", report.rows],
    ["New contacts", report.imported],
    ["Updated", report.updated],
    ["Already there", report.duplicate],
    ["Opted out", report.opted_out],
    ["Rejected", rejected],
  ];
  return (
    <section className="card" aria-labelledby="report-title">
      <div className="card-header">
        <h2 id="report-title">3. Result</h2>
      </div>
      <div role="status">
        <Notice tone={rejected ? "warning" : "success"}>
          Imported {formatNumber(report.imported + report.updated)} contact{report.imported + report.updated === 1 ? "" : "s"}
          {rejected ? `; ${formatNumber(rejected)} row${rejected === 1 ? " was" : "s were"} rejected` : ""}.
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
      {rejectedCsvUrl ? (
        <p>
          <a href={rejectedCsvUrl} download>
            Download every rejected row as CSV
          </a>{" "}
          (with the reason; fix the rows and import that file). The first {report.rejected.length} are shown.
        </p>
      ) : null}
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
