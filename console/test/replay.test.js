import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionFor, replaySteps } from "../src/replay.js";

const check = (fields) => ({ decision: "check", status: "allowed", engine_id: "mailer", platform: "gmail", action_type: "send_email", ...fields });
const event = (fields) => ({ engine: "mailer", platform: "gmail", action: "send_email", status: "success", ...fields });

test("an event is matched to the latest allowed check of its engine, platform and action before it", () => {
  const decisions = [
    check({ request_id: "r1", timestamp: "2026-12-01T12:00:00Z" }),
    check({ request_id: "r2", timestamp: "2026-12-01T12:01:00Z" }),
    check({ request_id: "r3", timestamp: "2026-12-01T12:03:00Z" }), // after the event
    check({ request_id: "r4", timestamp: "2026-12-01T12:01:30Z", status: "denied" }),
    check({ request_id: "r5", timestamp: "2026-12-01T12:01:40Z", action_type: "read" }),
    { decision: "plan", request_id: "r6", timestamp: "2026-12-01T12:01:50Z" },
  ];
  assert.equal(decisionFor(event({ timestamp: "2026-12-01T12:02:00Z" }), decisions).request_id, "r2");
  assert.equal(decisionFor(event({ timestamp: "2026-12-01T12:02:00Z", platform: "slack" }), decisions), null);
  assert.equal(decisionFor(event({ timestamp: "2026-12-01T12:10:00Z" }), decisions).request_id, "r3");
  assert.equal(decisionFor(event({ timestamp: "2026-12-01T13:00:00Z" }), decisions), null, "15 minutes at most");
});

test("an event naming its request is matched to that request's check, even a denial", () => {
  const decisions = [check({ request_id: "r1", timestamp: "2026-12-01T12:00:00Z", status: "denied" }), check({ request_id: "r2", timestamp: "2026-12-01T12:00:30Z" })];
  assert.equal(decisionFor(event({ timestamp: "2026-12-01T12:01:00Z", request_id: "r1" }), decisions).request_id, "r1");
});

test("a flow named by both must agree, and the engine may be the reporter", () => {
  const decisions = [check({ request_id: "r1", timestamp: "2026-12-01T12:00:00Z", flow_id: "f2" })];
  assert.equal(decisionFor(event({ timestamp: "2026-12-01T12:01:00Z", flow_id: "f1" }), decisions), null);
  assert.equal(decisionFor({ ...event({ timestamp: "2026-12-01T12:01:00Z" }), engine: null, reported_by: "mailer" }, decisions).request_id, "r1");
});

test("steps are oldest first with their error", () => {
  const steps = replaySteps(
    [event({ timestamp: "2026-12-01T12:02:00Z", status: "error", error_type: "quota", message: "over quota" }), event({ timestamp: "2026-12-01T12:01:00Z" })],
    [],
  );
  assert.deepEqual(steps.map((s) => [s.index, s.event.timestamp, s.error]), [
    [0, "2026-12-01T12:01:00Z", null],
    [1, "2026-12-01T12:02:00Z", "quota: over quota"],
  ]);
});
