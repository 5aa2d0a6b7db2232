// End to end against the local control plane (`make test-ts` starts the one `make run` starts), as an
// engine written in TypeScript would use the SDK.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { ActionDeniedError, BadRequestError, PuraifyClient, UnauthorizedError, ValidationError } from "../dist/index.js";

const base = process.env.PURAIFY_URL;
const skip = !base && "PURAIFY_URL is not set (run: make test-ts)";
const project = `pf_ts_${Date.now()}`;
let admin;
let engine;

before(async () => {
  if (skip) return;
  admin = new PuraifyClient({ baseUrl: base, engineId: process.env.PURAIFY_ENGINE_ID, engineKey: process.env.PURAIFY_ENGINE_KEY });
  const engineId = `ts-${Date.now()}`;
  const created = await admin.registerEngine({
    engine_id: engineId,
    permissions: { gmail: ["send_email"] },
    scopes: ["logs:write", "logs:read", "env:read", "env:write"],
    projects: [project],
  });
  engine = new PuraifyClient({ baseUrl: base, engineId, engineKey: created.engine_key });
});

test("check, require and checkMany", { skip }, async () => {
  assert.equal((await engine.check(["gmail", "send_email"])).allowed, true);
  const denied = await engine.check({ platform: "slack", action_type: "send_message" });
  assert.equal(denied.allowed, false);
  assert.ok(denied.reason);
  const error = await engine.require(["slack", "send_message"]).catch((e) => e);
  assert.ok(error instanceof ActionDeniedError);
  assert.equal(error.result.allowed, false);
  const inputs = Array.from({ length: 30 }, (_, i) => (i % 2 ? ["slack", "send_message"] : ["gmail", "send_email"]));
  const results = await engine.checkMany(inputs);
  assert.deepEqual(results.map((r) => r.allowed), inputs.map((_, i) => i % 2 === 0));
});

test("ingest in batches, then the events in the new list envelope", { skip }, async () => {
  const events = Array.from({ length: 1100 }, (_, i) => ({
    project_id: project,
    engine: "ts-engine",
    event_type: "execution",
    status: i === 1050 ? "error" : "success",
    event_id: `ts-${i}`,
    message: `event ${i}`,
  }));
  events[7] = { ...events[7], duration_ms: -1 }; // rejected by index, the rest stored
  const stored = await engine.ingest(events, { batchSize: 500 });
  assert.equal(stored.accepted, 1099);
  assert.equal(stored.rejected.length, 1);
  assert.equal(stored.rejected[0].index, 7);
  const page = await engine.logs({ project_id: project, limit: 10 });
  assert.equal(page.items.length, 10);
  assert.ok(page.next_cursor);
  const errors = await engine.logs({ project_id: project, status: "error" });
  assert.deepEqual(errors.items.map((e) => e.message), ["event 1050"]);
});

test("the resolved configuration, polled by ETag", { skip }, async () => {
  await admin.request("POST", "/env/versions", {
    body: { project_id: project, environment: "development", state: { flows: {} }, label: "v1.0.0" },
  });
  const first = await engine.resolved(project, "development");
  assert.ok(first.etag);
  assert.equal(await engine.resolved(project, "development", first.etag), null); // 304: unchanged
  await engine.request("PUT", `/env/${project}/development/config`, { body: { env_variables: { BASE_URL: "https://x.test" } } });
  const changed = await engine.resolved(project, "development", first.etag);
  assert.ok(changed && changed.etag !== first.etag);
  assert.ok(changed.config_revision > first.config_revision);
});

test("typed errors carry the envelope: 401, 422 and an unknown version", { skip }, async () => {
  const stranger = new PuraifyClient({ baseUrl: base, engineId: "nobody", engineKey: "pfk_wrong", maxRetries: 0 });
  const unauthorized = await stranger.validate().catch((e) => e);
  assert.ok(unauthorized instanceof UnauthorizedError);
  assert.equal(unauthorized.code, "unauthorized");
  assert.ok(unauthorized.requestId);
  const invalid = await engine.check({ platform: "", action_type: "x" }).catch((e) => e);
  assert.ok(invalid instanceof ValidationError);
  assert.ok(invalid.details.length > 0);
  const unknown = await admin.request("GET", "/config/global", { headers: { "Puraify-Version": "1999-01-01" } }).catch((e) => e);
  assert.ok(unknown instanceof BadRequestError);
  assert.equal(unknown.code, "unsupported_version");
  assert.deepEqual(unknown.envelope.error.details[0].supported, ["2026-12-01", "2026-12-07"]);
});

test("the SDK is served in the version it was built for; an older one gets the older shapes", { skip }, async () => {
  const config = await admin.globalConfig();
  assert.deepEqual(config.supported_versions, ["2026-12-01", "2026-12-07"]);
  const listed = await admin.request("GET", "/engines");
  assert.equal(listed.headers.get("puraify-version"), "2026-12-07");
  assert.ok(Array.isArray(listed.body.items));
  const older = await admin.request("GET", "/engines", { headers: { "Puraify-Version": "2026-12-01" } });
  assert.ok(Array.isArray(older.body.engines) && !("items" in older.body));
});

test("a retried POST with the same idempotency key is stored once", { skip }, async () => {
  const body = { project_id: project, engine: "ts-engine", event_type: "execution", status: "success", flow_id: "once" };
  const first = await engine.request("POST", "/monitoring/logs", { body, idempotencyKey: `once-${project}` });
  const again = await engine.request("POST", "/monitoring/logs", { body, idempotencyKey: `once-${project}` });
  assert.deepEqual(again.body, first.body);
  const stored = await engine.logs({ project_id: project, flow_id: "once" });
  assert.equal(stored.items.length, 1);
});
