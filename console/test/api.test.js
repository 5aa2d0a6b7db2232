import assert from "node:assert/strict";
import { test } from "node:test";
import { can, createApi, EXPIRED_MESSAGE, loadSession, queryString, saveSession } from "../src/api.js";

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }
  setItem(k, v) {
    this.items.set(k, String(v));
  }
  removeItem(k) {
    this.items.delete(k);
  }
}

function fakeFetch(responses) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const [status, body] = responses.shift();
    return { status, ok: status >= 200 && status < 300, text: async () => (body === undefined ? "" : JSON.stringify(body)) };
  };
  return { fetch, calls };
}

test("sign-in validates the key with the server and keeps it in session storage only", async () => {
  const storage = new MemoryStorage();
  const { fetch, calls } = fakeFetch([[200, { valid: true, engine_id: "admin", scopes: ["admin"], permissions: {} }]]);
  const api = createApi({ fetch, storage });
  const session = await api.signIn("admin", "pfk_secret");
  assert.deepEqual(session.scopes, ["admin"]);
  assert.equal(calls[0].url, "/engines/validate");
  assert.equal(calls[0].init.headers["X-Engine-ID"], "admin");
  assert.equal(calls[0].init.headers["X-Engine-Key"], "pfk_secret");
  // the version the console was built for, whatever the signed-in engine is pinned to
  assert.equal(calls[0].init.headers["Puraify-Version"], "2026-12-01");
  assert.equal(calls[0].init.credentials, "omit");
  assert.equal(loadSession(storage).engineKey, "pfk_secret");
});

test("a wrong key at sign-in is an error and stores nothing", async () => {
  const storage = new MemoryStorage();
  const { fetch } = fakeFetch([[401, { error: { code: "unauthorized", message: "missing or invalid engine credentials" } }]]);
  const api = createApi({ fetch, storage, onUnauthorized: () => assert.fail("not signed in yet") });
  await assert.rejects(api.signIn("admin", "pfk_wrong"), (e) => e.status === 401);
  assert.equal(loadSession(storage), null);
});

test("a 401 on a signed-in call clears the session and sends the operator back to sign-in", async () => {
  const storage = new MemoryStorage();
  saveSession(storage, { engineId: "ops", engineKey: "pfk_old", scopes: ["logs:read"] });
  const { fetch } = fakeFetch([[401, { error: { code: "unauthorized", message: "x" } }]]);
  let told = null;
  const api = createApi({ fetch, storage, onUnauthorized: (m) => (told = m) });
  await assert.rejects(api.get("/monitoring/logs", { project_id: "p" }), (e) => e.status === 401);
  assert.equal(told, EXPIRED_MESSAGE);
  assert.equal(loadSession(storage), null);
});

test("errors carry the envelope's code, message, details and request id", async () => {
  const storage = new MemoryStorage();
  saveSession(storage, { engineId: "admin", engineKey: "k", scopes: ["admin"] });
  const envelope = { error: { code: "promotion_denied", message: "denied", details: [{ reason: "error rate 7% is above 5%" }] }, request_id: "r-1" };
  const { fetch, calls } = fakeFetch([[403, envelope]]);
  const api = createApi({ fetch, storage, newId: () => "id-1" });
  await assert.rejects(api.post("/env/promote", { project_id: "p" }), (e) => e.code === "promotion_denied" && e.details[0].reason.includes("7%") && e.requestId === "r-1");
  assert.equal(calls[0].init.headers["Idempotency-Key"], "id-1");
  assert.equal(calls[0].init.body, JSON.stringify({ project_id: "p" }));
});

test("an unreachable server is a network error, not a crash", async () => {
  const api = createApi({ fetch: async () => Promise.reject(new TypeError("Failed to fetch")), storage: new MemoryStorage() });
  await assert.rejects(api.get("/health"), (e) => e.code === "network_error" && e.status === 0);
});

test("query strings drop empty values and admin holds every scope", () => {
  assert.equal(queryString({ project_id: "p 1", engine: "", status: null, limit: 50 }), "?project_id=p+1&limit=50");
  assert.equal(queryString({}), "");
  assert.equal(can({ scopes: ["admin"] }, "alerts:manage"), true);
  assert.equal(can({ scopes: ["logs:read"] }, "alerts:manage"), false);
  assert.equal(can(null, "logs:read"), false);
});
