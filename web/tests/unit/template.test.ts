// The editor's mirror of the template syntax, held to the cases of the API's own tests
// (tests/unit/test_message_templates.py): same placeholders, same rendering, same line and column.
import { describe, expect, test } from "vitest";
import { contactValues, parse, render, variables } from "../../src/lib/template";

describe("template syntax", () => {
  test("placeholders with and without defaults", () => {
    const parsed = parse("Hi {{ name | there }}, order {{order_id}}");
    expect(parsed).toEqual({
      ok: true,
      placeholders: [
        { name: "name", defaultValue: "there", start: 3, end: 21 },
        { name: "order_id", defaultValue: null, start: 29, end: 41 },
      ],
    });
    expect(variables("{{a}} {{b|x}} {{a}}")).toEqual(["a", "b"]);
  });

  test("rendering uses values, then defaults; a blank value is none", () => {
    const body = "Hi {{name|there}}, your order {{order_id}} ships {{when|soon}}.";
    expect(render(body, { name: "Asha", order_id: "42" })).toEqual({ ok: true, text: "Hi Asha, your order 42 ships soon." });
    expect(render(body, { name: "  ", order_id: "42" })).toEqual({ ok: true, text: "Hi there, your order 42 ships soon." });
    expect(render("{{x|}}!", {})).toEqual({ ok: true, text: "!" });
  });

  test("a value is never read as a template", () => {
    expect(render("{{a}} {{b}}", { a: "{{b}}", b: "}}" })).toEqual({ ok: true, text: "{{b}} }}" });
  });

  test("every missing variable is named, once", () => {
    expect(render("{{order_id}} for {{name|you}} on {{date}} {{order_id}}", {})).toEqual({ ok: false, missing: ["order_id", "date"] });
  });

  test.each([
    ["Hi {{name", 1, 4, "never closed"],
    ["Hi name}}", 1, 8, "closes nothing"],
    ["Hi {{}}", 1, 4, "needs a variable name"],
    ["Hello\nthere {{first name}}", 2, 9, "not a variable name"],
    ["line one\n\n  {{ 9lives }}", 3, 6, "not a variable name"],
    ["{{a {{b}} }}", 1, 5, "cannot contain"],
    ["{{{name}}}", 1, 3, "not a variable name"],
  ])("%j is refused at line %i, column %i", (body, line, column, says) => {
    const parsed = parse(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toMatchObject({ line, column });
    expect(parsed.problem.message).toContain(says);
  });

  test("single braces and names in any script are fine", () => {
    expect(render("{json} {{शहर|?}} {{_x}}", { शहर: "पुणे", _x: "1" })).toEqual({ ok: true, text: "{json} पुणे 1" });
  });

  test("a contact offers its attributes, then name, first_name and phone", () => {
    const values = contactValues({ name: "Asha Rao", phone: "+919876543210", attributes: { city: "Pune", name: "ignored" } });
    expect(values).toEqual({ name: "Asha Rao", first_name: "Asha", phone: "+919876543210", city: "Pune" });
    const nameless = contactValues({ name: "", phone: "+919876543210", attributes: { first_name: "From CSV" } });
    expect(nameless.first_name).toBe("From CSV");
    expect("name" in nameless).toBe(false);
  });
});
