import Papa from "papaparse";

/**
 * The contacts CSV before it is uploaded: a preview of its first rows and the role of each column.
 *
 * The API reads the header itself (layers/common/wacast/domain/contact_columns.py): 'Mobile No.' is the
 * phone, 'Full name' the name, other columns become attributes. The console shows that mapping (ROLES
 * mirrors the API's aliases; tests/unit/csv.test.ts compares them with the API's own table) and lets the
 * user change it: a changed mapping is applied by rewriting the header row before the upload, so the
 * API still decides everything else (validation, the per-row report, idempotency).
 */

export type ColumnRole = "phone" | "name" | "first_name" | "last_name" | "tags" | "opt_in" | "opt_out" | "attribute" | "ignore";

export const ROLE_LABELS: Record<ColumnRole, string> = {
  phone: "Phone (WhatsApp number)",
  name: "Name",
  first_name: "First name",
  last_name: "Last name",
  tags: "Tags",
  opt_in: "Opt-in (yes/no)",
  opt_out: "Opted out (yes/no)",
  attribute: "Custom field",
  ignore: "Ignore this column",
};

/** The header of each role when the console rewrites the header row. */
const CANONICAL: Partial<Record<ColumnRole, string>> = {
  phone: "phone",
  name: "name",
  first_name: "first name",
  last_name: "last name",
  tags: "tags",
  opt_in: "opt in",
  opt_out: "opted out",
};

const PHONE = ["phone", "mobile", "number", "whatsapp", "whatsapp number", "phone number", "mobile number", "mobile no"];
const PHONE_MORE = ["phone no", "cell", "cell phone", "tel", "telephone", "msisdn", "contact number", "wa number", "e164"];
const NAME = ["name", "full name", "fullname", "contact name", "customer name", "display name"];
const FIRST_NAME = ["first name", "firstname", "given name"];
const LAST_NAME = ["last name", "lastname", "surname", "family name"];
const TAGS = ["tags", "tag", "labels", "label", "groups", "group", "segments", "segment"];
const OPT_IN = ["opt in", "optin", "opted in", "consent", "subscribed", "whatsapp opt in", "marketing consent"];
const OPT_OUT = ["opted out", "opt out", "optout", "unsubscribed", "do not contact", "dnc"];
const EXPORT_ONLY = ["id", "contact id", "opted out at", "opted out source", "import batch", "created at", "updated at"];

/** Header alias -> role, as the API reads a header ('ignored': columns an export writes about the record). */
export const ROLES: Record<string, string> = Object.fromEntries([
  ...[...PHONE, ...PHONE_MORE].map((h) => [h, "phone"]),
  ...NAME.map((h) => [h, "name"]),
  ...FIRST_NAME.map((h) => [h, "first_name"]),
  ...LAST_NAME.map((h) => [h, "last_name"]),
  ...TAGS.map((h) => [h, "tags"]),
  ...OPT_IN.map((h) => [h, "opt_in"]),
  ...OPT_OUT.map((h) => [h, "opt_out"]),
  ...EXPORT_ONLY.map((h) => [h, "ignored"]),
]);

const WORD = /[\p{L}\p{N}\p{M}_]/u;

/** 'City Name' -> 'city_name': the attribute key (and template variable) a header becomes. */
export function attributeKey(header: string): string {
  const chars = Array.from(header.trim().toLowerCase()).map((ch) => (WORD.test(ch) ? ch : " "));
  let key = chars.join("").split(/\s+/).filter(Boolean).join("_").replace(/^_+|_+$/g, "");
  if (key && !/^[\p{L}_]/u.test(key)) key = `_${key}`;
  return key.slice(0, 64);
}

/** 'Mobile No.' -> 'mobile no': how a header is compared with the aliases. */
export function headerForm(header: string): string {
  return attributeKey(header).replace(/_/g, " ").trim();
}

export function guessRole(header: string): ColumnRole {
  const form = headerForm(header);
  if (!form) return "ignore";
  const role = ROLES[form];
  if (role === "ignored") return "ignore";
  return (role as ColumnRole | undefined) ?? "attribute";
}

export interface CsvPreview {
  header: string[];
  rows: string[][];
  /** Data rows in the file (blank lines aside). */
  rowCount: number;
  delimiter: string;
  problems: string[];
}

export const PREVIEW_ROWS = 8;

/** Reads the file's text (UTF-8, with or without a BOM; ',' or ';'). */
export function previewCsv(text: string): CsvPreview {
  const clean = text.replace(/^\uFEFF/, "");
  const parsed = Papa.parse<string[]>(clean, { skipEmptyLines: "greedy", delimitersToGuess: [",", ";", "\t", "|"] });
  const [header = [], ...rows] = parsed.data;
  const problems = parsed.errors
    .filter((e) => e.code !== "UndetectableDelimiter")
    .slice(0, 5)
    .map((e) => (typeof e.row === "number" ? `Row ${e.row + 1}: ${e.message}` : e.message));
  return { header, rows: rows.slice(0, PREVIEW_ROWS), rowCount: rows.length, delimiter: parsed.meta.delimiter, problems };
}

export interface Mapping {
  roles: ColumnRole[];
  /** Attribute names for "Custom field" columns (default: the header's key). */
  names: string[];
}

export function defaultMapping(header: string[]): Mapping {
  return { roles: header.map(guessRole), names: header.map(attributeKey) };
}

export function mappingProblems(mapping: Mapping): string[] {
  const problems: string[] = [];
  const count = (role: ColumnRole) => mapping.roles.filter((r) => r === role).length;
  if (count("phone") === 0) problems.push("Choose the column that holds the phone numbers.");
  for (const role of ["phone", "name", "first_name", "last_name", "tags"] as const) {
    if (count(role) > 1) problems.push(`Only one column can be ${ROLE_LABELS[role]}.`);
  }
  if (count("opt_in") + count("opt_out") > 1) problems.push("Only one column can say whether a contact opted in or out.");
  const keys = mapping.roles.flatMap((r, i) => (r === "attribute" ? [attributeKey(mapping.names[i] ?? "")] : []));
  if (keys.some((k) => !k)) problems.push("Give every custom field a name.");
  if (new Set(keys).size !== keys.length) problems.push("Two custom fields have the same name.");
  return problems;
}

/** Whether the user changed what the API would read from the header by itself. */
export function isDefaultMapping(header: string[], mapping: Mapping): boolean {
  const guessed = defaultMapping(header);
  return mapping.roles.every(
    (role, i) => role === guessed.roles[i] && (role !== "attribute" || attributeKey(mapping.names[i] ?? "") === guessed.names[i]),
  );
}

/**
 * The file as it is uploaded: unchanged when the mapping is the API's own reading, else with its header
 * row rewritten (each column named for its role, ignored columns dropped) and every row kept in place, so
 * the report's line numbers still point into the user's file.
 */
export function applyMapping(text: string, mapping: Mapping): string {
  const clean = text.replace(/^\uFEFF/, "");
  const parsed = Papa.parse<string[]>(clean, { skipEmptyLines: false, delimitersToGuess: [",", ";", "\t", "|"] });
  const [header = [], ...rows] = parsed.data;
  const keep = header.map((_, i) => (mapping.roles[i] ?? "ignore") !== "ignore");
  const newHeader = header.flatMap((_, i) => {
    if (!keep[i]) return [];
    const role = mapping.roles[i] ?? "attribute";
    return [role === "attribute" ? attributeKey(mapping.names[i] ?? header[i] ?? "") : (CANONICAL[role] ?? "")];
  });
  const body = rows.map((row) => (row.length === 1 && row[0] === "" ? [] : row.filter((_, i) => keep[i])));
  return Papa.unparse([newHeader, ...body], { newline: "\n" });
}
