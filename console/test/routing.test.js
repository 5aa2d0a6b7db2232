import assert from "node:assert/strict";
import { test } from "node:test";
import { alertLabels, matches, parseValues, take } from "../src/routing.js";

const routes = [
  { name: "critical", match: { severity: ["critical"] }, continue: true },
  { name: "slack", match: { platform: "Slack" } },
  { name: "everything" },
];

test("the first match, then on while it says continue", () => {
  const critical = alertLabels({ severity: "critical", details: { platform: "slack" } });
  assert.deepEqual(take(routes, critical).map((r) => r.name), ["critical", "slack"]);
  const high = alertLabels({ severity: "high", triggered_by: "exec" });
  assert.deepEqual(take(routes, high).map((r) => r.name), ["everything"]);
  assert.deepEqual(take(routes.slice(0, 2), high), []);
});

test("matching is case-insensitive, every named field must hold, a missing value never matches", () => {
  assert.ok(matches({ platform: ["SLACK"], severity: ["critical"] }, alertLabels({ severity: "Critical", details: { platform: "slack" } })));
  assert.ok(!matches({ platform: "slack", severity: "high" }, alertLabels({ severity: "critical", details: { platform: "slack" } })));
  assert.ok(!matches({ environment: "prod" }, alertLabels({ severity: "critical" })));
  assert.equal(alertLabels({ triggered_by: "checkout" }).engine, "checkout");
  assert.equal(alertLabels({ event_type: "payment_failed" }).kind, "payment_failed");
});

test("values typed as a comma list", () => {
  assert.deepEqual(parseValues(" critical, high ,"), ["critical", "high"]);
  assert.equal(parseValues("  "), undefined);
});
