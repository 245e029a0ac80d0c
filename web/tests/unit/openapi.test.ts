// The console's API types are generated from openapi.json (`make openapi` regenerates both). This fails
// when the committed src/api/schema.d.ts is not what openapi.json generates today.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { expect, test } from "vitest";

const WEB = resolve(__dirname, "../..");

test("src/api/schema.d.ts is generated from the current openapi.json (run `make openapi`)", async () => {
  const document = JSON.parse(readFileSync(resolve(WEB, "../openapi.json"), "utf8"));
  const generated = astToString(await openapiTS(document, { defaultNonNullable: false }));
  const committed = readFileSync(resolve(WEB, "src/api/schema.d.ts"), "utf8");
  const body = (text: string) => text.slice(text.indexOf("export"));
  expect(body(committed) === body(generated), "src/api/schema.d.ts has drifted from openapi.json: run `make openapi`").toBe(true);
}, 30_000);
