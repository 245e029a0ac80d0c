import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import Papa from "papaparse";
import { describe, expect, test } from "vitest";
import { ROLES, applyMapping, attributeKey, defaultMapping, guessRole, isDefaultMapping, mappingProblems, previewCsv } from "../../src/lib/csv";

const ROOT = resolve(__dirname, "../../..");
const PYTHON = resolve(ROOT, ".venv/bin/python");

describe("the contacts CSV before upload", () => {
  test("the mapping shown is the API's own reading of the header (its alias table, compared live)", () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: make install`);
    const script = "import json; from wacast.domain.contact_columns import ROLES; print(json.dumps(ROLES))";
    const api = JSON.parse(execFileSync(PYTHON, ["-c", script], { cwd: ROOT, encoding: "utf8" })) as Record<string, string>;
    expect(ROLES).toEqual(api);
  });

  test("headers match case, spacing and punctuation aside", () => {
    expect(guessRole("Mobile No.")).toBe("phone");
    expect(guessRole("WhatsApp Number")).toBe("phone");
    expect(guessRole("Full Name")).toBe("name");
    expect(guessRole("Opt In")).toBe("opt_in");
    expect(guessRole("Import Batch")).toBe("ignore");
    expect(guessRole("City Name")).toBe("attribute");
    expect(attributeKey("City Name")).toBe("city_name");
    expect(attributeKey("2nd line")).toBe("_2nd_line");
  });

  test("the preview: BOM, semicolons and quoted fields; the first rows and the count", () => {
    const text = '\uFEFFphone;name;note\n+919876500001;"Rao; Asha";"line one\nline two"\n+919876500002;Ravi;x\n\n';
    const preview = previewCsv(text);
    expect(preview.header).toEqual(["phone", "name", "note"]);
    expect(preview.delimiter).toBe(";");
    expect(preview.rowCount).toBe(2);
    expect(preview.rows[0]).toEqual(["+919876500001", "Rao; Asha", "line one\nline two"]);
  });

  test("a changed mapping rewrites the header only; every row keeps its line", () => {
    const text = "Cell,Who,Segment,Notes\n+919876500001,Asha,vip,likes cake\nbad,Ravi,,\n";
    const mapping = defaultMapping(["Cell", "Who", "Segment", "Notes"]);
    expect(mapping.roles).toEqual(["phone", "attribute", "tags", "attribute"]);
    expect(isDefaultMapping(["Cell", "Who", "Segment", "Notes"], mapping)).toBe(true);
    mapping.roles[1] = "name";
    mapping.roles[3] = "ignore";
    expect(isDefaultMapping(["Cell", "Who", "Segment", "Notes"], mapping)).toBe(false);
    const rewritten = applyMapping(text, mapping);
    const rows = Papa.parse<string[]>(rewritten.trim()).data;
    expect(rows).toEqual([
      ["phone", "name", "tags"],
      ["+919876500001", "Asha", "vip"],
      ["bad", "Ravi", ""],
    ]);
  });

  test("a mapping without a phone, or with two, cannot be imported", () => {
    expect(mappingProblems({ roles: ["name", "attribute"], names: ["", "x"] })).toContain("Choose the column that holds the phone numbers.");
    expect(mappingProblems({ roles: ["phone", "phone"], names: ["", ""] })).toContain("Only one column can be Phone (WhatsApp number).");
    expect(mappingProblems({ roles: ["phone", "attribute", "attribute"], names: ["", "City", "city"] })).toContain("Two custom fields have the same name.");
  });
});
