// Retries, Retry-After, timeouts and idempotency keys, against a small HTTP server that misbehaves on purpose.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import { ConnectionError, PuraifyClient, RateLimitedError, TimeoutError, ValidationError, parseRetryAfter } from "../dist/index.js";

async function serve(answers) {
  const seen = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      seen.push({ method: request.method, url: request.url, headers: request.headers, body });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)];
      if (answer === "hang") return; // never answers
      response.writeHead(answer.status, { "Content-Type": "application/json", ...(answer.headers ?? {}) });
      response.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

function client(url, options = {}) {
  const waits = [];
  const sdk = new PuraifyClient({
    baseUrl: url,
    engineId: "e",
    engineKey: "pfk_x",
    sleep: async (ms) => void waits.push(ms),
    ...options,
  });
  return { sdk, waits };
}

const envelope = (code) => ({ error: { code, message: code, details: [] }, request_id: "r-1" });
const allowed = { allowed: true, required_scopes: [], engine_id: "e", platform: "gmail", action_type: "send_email", request_id: "r" };

test("a 503 then a 200: retried after Retry-After, with the same idempotency key", async () => {
  const server = await serve([
    { status: 503, headers: { "Retry-After": "2" }, body: envelope("store_unavailable") },
    { status: 200, body: allowed },
  ]);
  try {
    const { sdk, waits } = client(server.url);
    const result = await sdk.check(["gmail", "send_email"]);
    assert.equal(result.allowed, true);
    assert.equal(server.seen.length, 2);
    assert.ok(waits[0] >= 2000, `waited ${waits[0]} ms, Retry-After asked for 2 s`);
    const keys = server.seen.map((r) => r.headers["idempotency-key"]);
    assert.ok(keys[0] && keys[0] === keys[1], "one key for every try of one POST");
    assert.equal(server.seen[0].headers["puraify-version"], "2026-12-07");
    assert.deepEqual(JSON.parse(server.seen[0].body), { platform: "gmail", action_type: "send_email" });
  } finally {
    await server.close();
  }
});

test("429 every time: a RateLimitedError carrying the envelope after maxRetries, backoff growing", async () => {
  const server = await serve([{ status: 429, body: envelope("rate_limited") }]);
  try {
    const { sdk, waits } = client(server.url, { maxRetries: 2, backoffMs: 100 });
    const error = await sdk.validate().catch((e) => e);
    assert.ok(error instanceof RateLimitedError);
    assert.equal(error.code, "rate_limited");
    assert.equal(error.requestId, "r-1");
    assert.deepEqual(error.envelope, envelope("rate_limited"));
    assert.equal(server.seen.length, 3);
    assert.equal(waits.length, 2);
    assert.ok(waits.every((ms) => ms >= 0 && ms <= 10_000));
  } finally {
    await server.close();
  }
});

test("a 422 is not retried and names its fields", async () => {
  const body = { error: { code: "validation_failed", message: "1 invalid field(s)", details: [{ field: "body.platform" }] }, request_id: "r" };
  const server = await serve([{ status: 422, body }]);
  try {
    const { sdk } = client(server.url);
    const error = await sdk.check(["", "x"]).catch((e) => e);
    assert.ok(error instanceof ValidationError);
    assert.equal(error.details[0].field, "body.platform");
    assert.equal(server.seen.length, 1);
  } finally {
    await server.close();
  }
});

test("no answer in time: a TimeoutError after the retries", async () => {
  const server = await serve(["hang"]);
  try {
    const { sdk } = client(server.url, { timeoutMs: 150, maxRetries: 1 });
    const started = Date.now();
    const error = await sdk.validate().catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(server.seen.length, 2);
    assert.ok(Date.now() - started < 5000);
  } finally {
    server.close();
  }
});

test("nothing listening: a ConnectionError", async () => {
  const server = await serve([{ status: 200 }]);
  await server.close();
  const { sdk } = client(server.url, { maxRetries: 0 });
  assert.ok((await sdk.validate().catch((e) => e)) instanceof ConnectionError);
});

test("Retry-After as seconds or as an HTTP date", () => {
  assert.equal(parseRetryAfter("3"), 3);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter("soon"), null);
  const later = parseRetryAfter(new Date(Date.now() + 5000).toUTCString());
  assert.ok(later > 3 && later <= 5, String(later));
});
