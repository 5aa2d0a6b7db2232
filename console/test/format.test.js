import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ago,
  describePermissions,
  describeProjects,
  listOf,
  parsePermissions,
  permissionLines,
  projectChoice,
  projectGrants,
  rangeFor,
  seconds,
  sinceFor,
  stamp,
} from "../src/format.js";

const NOW = Date.parse("2026-12-01T12:00:00Z");

test("ages read like an operator expects", () => {
  assert.equal(ago("2026-12-01T11:59:50Z", NOW), "10 s ago");
  assert.equal(ago("2026-12-01T11:55:00Z", NOW), "5 min ago");
  assert.equal(ago("2026-12-01T09:00:00Z", NOW), "3 h ago");
  assert.equal(ago("2026-11-29T12:00:00Z", NOW), "2 d ago");
  assert.equal(ago("2026-12-01T12:04:00Z", NOW), "in 4 min");
  assert.equal(ago(null, NOW), "never");
  assert.equal(seconds(12.34), "12.3 s");
  assert.equal(seconds(7200), "2 h");
  assert.equal(stamp("2026-12-01T11:59:50.123456Z"), "2026-12-01 11:59:50 UTC");
});

test("ranges become the API's since", () => {
  assert.equal(sinceFor("15m", NOW), "2026-12-01T11:45:00.000Z");
  assert.equal(sinceFor("24h", NOW), "2026-11-30T12:00:00.000Z");
  assert.throws(() => sinceFor("forever", NOW));
});

test("permissions typed as lines become the register body, and back", () => {
  const permissions = parsePermissions("gmail: send_email, read_email\nslack: send_message\n\n");
  assert.deepEqual(permissions, { gmail: ["send_email", "read_email"], slack: ["send_message"] });
  assert.equal(describePermissions(permissions), "gmail: send_email, read_email; slack: send_message");
  assert.equal(describePermissions({}), "none");
  assert.deepEqual(listOf(" logs:read, ,env:read "), ["logs:read", "env:read"]);
});

test("project grants: a choice of none, some or all becomes the API's list, and back", () => {
  assert.deepEqual(projectGrants("all", "ignored"), ["*"]);
  assert.deepEqual(projectGrants("none", "shop"), []);
  assert.deepEqual(projectGrants("some", " shop, pf-777 ,"), ["shop", "pf-777"]);
  assert.deepEqual(projectChoice(["*"]), { choice: "all", ids: "" });
  assert.deepEqual(projectChoice([]), { choice: "none", ids: "" });
  assert.deepEqual(projectChoice(["pf-777", "shop"]), { choice: "some", ids: "pf-777, shop" });
  assert.equal(describeProjects(["*"]), "all projects");
  assert.equal(describeProjects([]), "none");
  assert.equal(describeProjects(["a", "b"]), "a, b");
  assert.deepEqual(parsePermissions(permissionLines({ gmail: ["send_email", "read_email"], slack: [] })), {
    gmail: ["send_email", "read_email"],
    slack: [],
  });
});

test("a relative range is exactly its span, in whole seconds from one clock reading", () => {
  const { since, until } = rangeFor("24h", Date.parse("2026-12-01T12:00:00.987Z"));
  assert.equal(until, "2026-12-01T12:00:00Z");
  assert.equal(since, "2026-11-30T12:00:00Z");
  assert.equal((Date.parse(until) - Date.parse(since)) / 1000, 86400);
  assert.deepEqual(rangeFor("7d", NOW), { since: "2026-11-24T12:00:00Z", until: "2026-12-01T12:00:00Z" });
  assert.throws(() => rangeFor("soon", NOW));
});

test("links carry their params in the hash and read back", async () => {
  const { hashParams, linkTo, links, shifted } = await import("../src/links.js");
  assert.equal(linkTo("monitoring", { tab: "logs", status: "error", engine: "" }), "#/monitoring?tab=logs&status=error");
  assert.deepEqual(hashParams("#/monitoring?tab=logs&fingerprint=ab%23c"), { tab: "logs", fingerprint: "ab#c" });
  assert.deepEqual(hashParams("#/overview"), {});
  assert.equal(shifted("2026-12-01T12:00:00.123456Z", -900), "2026-12-01T11:45:00Z");
  assert.equal(links.decision("d1"), "#/planning?decision=d1");
  assert.equal(links.versionErrors("v1.1.0", "staging"), "#/monitoring?tab=logs&version=v1.1.0&environment=staging&status=error");
});

test("a planned window is judged on its same hours a day, else a week, before", async () => {
  const { sameHoursBefore } = await import("../src/format.js");
  const at = (s) => Date.parse(s);
  // tonight 02:00-03:00: last night's same hours
  assert.deepEqual(sameHoursBefore(at("2026-12-02T02:00:00Z"), at("2026-12-02T03:00:00Z"), NOW), {
    since: "2026-12-01T02:00:00.000Z",
    until: "2026-12-01T03:00:00.000Z",
    label: "its same hours one day before",
  });
  // in three days: the same hours a week before
  assert.equal(sameHoursBefore(at("2026-12-04T02:00:00Z"), at("2026-12-04T03:00:00Z"), NOW).since, "2026-11-27T02:00:00.000Z");
  // past a week ahead, or not a window: none (the last 24 hours instead)
  assert.equal(sameHoursBefore(at("2026-12-09T02:00:00Z"), at("2026-12-09T03:00:00Z"), NOW), null);
  assert.equal(sameHoursBefore(at("2026-12-02T03:00:00Z"), at("2026-12-02T02:00:00Z"), NOW), null);
  assert.equal(sameHoursBefore(Number.NaN, at("2026-12-02T02:00:00Z"), NOW), null);
  // at most 7 days long (simulate's bound)
  const long = sameHoursBefore(at("2026-12-01T00:00:00Z"), at("2026-12-20T00:00:00Z"), NOW);
  assert.deepEqual([long.since, long.until], ["2026-11-24T00:00:00.000Z", "2026-12-01T00:00:00.000Z"]);
  const week = sameHoursBefore(at("2026-11-20T00:00:00Z"), at("2026-12-20T00:00:00Z"), NOW);
  assert.deepEqual([week.since, week.until], ["2026-11-19T00:00:00.000Z", "2026-11-26T00:00:00.000Z"]);
});
