// The generated types follow the contract: src/schema.d.ts is what openapi-typescript makes of the
// running control plane's GET /openapi.json today. Regenerate with `make client-ts-types`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const base = process.env.PURAIFY_URL;

test("the generated types do not lag the served contract", { skip: !base && "PURAIFY_URL is not set" }, async () => {
  const document = await (await fetch(`${base}/openapi.json`)).text();
  const folder = mkdtempSync(join(tmpdir(), "puraify-ts-"));
  writeFileSync(join(folder, "openapi.json"), document);
  execFileSync(join(root, "node_modules/.bin/openapi-typescript"), [join(folder, "openapi.json"), "--default-non-nullable", "false", "-o", join(folder, "schema.d.ts")], {
    stdio: "pipe",
  });
  const fresh = readFileSync(join(folder, "schema.d.ts"), "utf8");
  const committed = readFileSync(join(root, "src/schema.d.ts"), "utf8");
  assert.ok(
    fresh === committed,
    "client-ts/src/schema.d.ts lags the contract (GET /openapi.json changed): run `make client-ts-types` and commit it",
  );
});
