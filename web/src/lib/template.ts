/**
 * The template syntax, as the editor checks it while you type: `{{variable}}` and `{{variable|default}}`.
 *
 * The API is the judge (it refuses a body that does not parse, naming its line and column, and renders
 * the messages); this mirror of layers/common/wacast/domain/templates.py only gives the editor instant
 * feedback and a draft preview before the template is saved. tests/unit/template.test.ts holds it to the
 * domain's own cases, and the browser test compares its preview with the API's.
 */

export const MAX_BODY = 4096;
const OPEN = "{{";
const CLOSE = "}}";

export interface Placeholder {
  name: string;
  defaultValue: string | null;
  start: number;
  end: number;
}

export interface SyntaxProblem {
  message: string;
  line: number;
  column: number;
  offset: number;
}

export type Parsed = { ok: true; placeholders: Placeholder[] } | { ok: false; problem: SyntaxProblem };

const WORD = /^[\p{L}\p{N}\p{M}_]$/u;
const LETTER = /^[\p{L}_]$/u;

export function isVariableName(text: string): boolean {
  const chars = Array.from(text);
  return chars.length > 0 && LETTER.test(chars[0] ?? "") && chars.every((ch) => WORD.test(ch));
}

/** 1-based line and column (in characters) of `offset` in `body`. */
export function position(body: string, offset: number): { line: number; column: number } {
  const before = body.slice(0, offset);
  const line = before.split("\n").length;
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line, column: Array.from(body.slice(lineStart, offset)).length + 1 };
}

function problem(body: string, offset: number, text: string): Parsed {
  const where = position(body, offset);
  return { ok: false, problem: { message: text, offset, ...where } };
}

export function parse(body: string): Parsed {
  if (Array.from(body).length > MAX_BODY) {
    return problem(body, body.length, `a template has at most ${MAX_BODY} characters`);
  }
  const found: Placeholder[] = [];
  let cursor = 0;
  for (;;) {
    const opening = body.indexOf(OPEN, cursor);
    const closing = body.indexOf(CLOSE, cursor);
    if (closing !== -1 && (opening === -1 || closing < opening)) {
      return problem(body, closing, "'}}' closes nothing: open a placeholder with '{{'");
    }
    if (opening === -1) return { ok: true, placeholders: found };
    const end = body.indexOf(CLOSE, opening + OPEN.length);
    const nested = body.indexOf(OPEN, opening + OPEN.length);
    if (end === -1) return problem(body, opening, "'{{' is never closed with '}}'");
    if (nested !== -1 && nested < end) return problem(body, nested, "a placeholder cannot contain '{{'");
    const inner = body.slice(opening + OPEN.length, end);
    const bar = inner.indexOf("|");
    const rawName = bar === -1 ? inner : inner.slice(0, bar);
    const name = rawName.trim();
    if (!name) return problem(body, opening, "a placeholder needs a variable name, e.g. {{name}}");
    if (!isVariableName(name)) {
      const at = opening + OPEN.length + rawName.indexOf(name);
      return problem(body, at, `'${name.slice(0, 40)}' is not a variable name`);
    }
    found.push({ name, defaultValue: bar === -1 ? null : inner.slice(bar + 1).trim(), start: opening, end: end + 2 });
    cursor = end + CLOSE.length;
  }
}

/** The variable names a body uses, each once, in order of first use ([] when it does not parse). */
export function variables(body: string): string[] {
  const parsed = parse(body);
  return parsed.ok ? [...new Set(parsed.placeholders.map((p) => p.name))] : [];
}

export type Rendered = { ok: true; text: string } | { ok: false; missing: string[] } | { ok: false; problem: SyntaxProblem };

/** The body with each placeholder replaced by its value, or its default when the value is blank. */
export function render(body: string, values: Record<string, string | undefined>): Rendered {
  const parsed = parse(body);
  if (!parsed.ok) return parsed;
  const blank = (v: string | undefined) => !(v ?? "").trim();
  const missing = [
    ...new Set(parsed.placeholders.filter((p) => p.defaultValue === null && blank(values[p.name])).map((p) => p.name)),
  ];
  if (missing.length) return { ok: false, missing };
  let text = "";
  let cursor = 0;
  for (const p of parsed.placeholders) {
    const value = values[p.name] ?? "";
    text += body.slice(cursor, p.start) + (value.trim() ? value : (p.defaultValue ?? ""));
    cursor = p.end;
  }
  return { ok: true, text: text + body.slice(cursor) };
}

/** What a template can say about a contact: its attributes, then name, first_name and phone. */
export function contactValues(contact: {
  name: string;
  phone: string;
  attributes: Record<string, string>;
}): Record<string, string> {
  const values: Record<string, string> = { ...contact.attributes };
  const firstName = contact.name.split(/\s+/).filter(Boolean)[0] ?? "";
  for (const [key, value] of [
    ["name", contact.name],
    ["first_name", firstName],
    ["phone", contact.phone],
  ] as const) {
    if (value) values[key] = value;
  }
  return values;
}
