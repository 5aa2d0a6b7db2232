// Formatting shared by the pages: times, ages, counts, masked values.

export function parseTime(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return value * 1000;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in 4 min" for the future). */
export function ago(value, now = Date.now()) {
  const ms = parseTime(value);
  if (ms === null) return "never";
  const seconds = Math.round((now - ms) / 1000);
  const span = Math.abs(seconds);
  const text =
    span < 60 ? `${span} s` : span < 3600 ? `${Math.floor(span / 60)} min` : span < 86400 ? `${Math.floor(span / 3600)} h` : `${Math.floor(span / 86400)} d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** Seconds as "45 s", "12 min", "3.5 h". */
export function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${Math.round(value * 10) / 10} s`;
  if (value < 3600) return `${Math.round(value / 60)} min`;
  return `${Math.round(value / 360) / 10} h`;
}

export function stamp(value) {
  const ms = parseTime(value);
  if (ms === null) return "–";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC");
}

export function count(value) {
  return new Intl.NumberFormat("en").format(value || 0);
}

export function percent(value) {
  return `${Math.round((value || 0) * 1000) / 10}%`;
}

/** The API's `since` for a range like "1h" relative to `now` (ISO-8601, what every read route takes). */
export function sinceFor(range, now = Date.now()) {
  const units = { m: 60, h: 3600, d: 86400 };
  const match = /^(\d+)([mhd])$/.exec(range);
  if (!match) throw new Error(`not a range: ${range}`);
  return new Date(now - Number(match[1]) * units[match[2]] * 1000).toISOString();
}

/**
 * A relative range ("1h", "24h", "7d") as the `since` and `until` the API takes, both from one reading of
 * the clock and in whole seconds, so `until - since` is exactly the range: a server bounding the span
 * (the overview's 24 hours) never sees it a few milliseconds over, whatever its own clock says.
 */
export function rangeFor(range, now = Date.now()) {
  const until = Math.floor(now / 1000) * 1000;
  const since = Date.parse(sinceFor(range, until));
  const iso = (ms) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
  return { since: iso(since), until: iso(until) };
}

/** "gmail: send_email, read" lines <-> {"gmail": ["send_email", "read"]}. */
export function parsePermissions(text) {
  const permissions = {};
  for (const line of text.split(/\n|;/)) {
    if (!line.trim()) continue;
    const [platform, actions = ""] = line.split(":");
    const name = platform.trim();
    if (!name) continue;
    permissions[name] = actions.split(",").map((a) => a.trim()).filter(Boolean);
  }
  return permissions;
}

export function listOf(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

export function describePermissions(permissions) {
  const entries = Object.entries(permissions || {});
  return entries.length ? entries.map(([p, actions]) => `${p}: ${actions.join(", ") || "–"}`).join("; ") : "none";
}

/** {"gmail": ["send_email"]} as the lines `parsePermissions` reads, for editing. */
export function permissionLines(permissions) {
  return Object.entries(permissions || {})
    .map(([platform, actions]) => `${platform}: ${actions.join(", ")}`)
    .join("\n");
}

export const ALL_PROJECTS = "*";

/** An engine's project grants for people: "all projects", "none", or the ids. */
export function describeProjects(projects) {
  if (!projects?.length) return "none";
  return projects.includes(ALL_PROJECTS) ? "all projects" : projects.join(", ");
}

/** The grants a project choice stands for: `all` is ["*"], `none` is [], `some` the ids typed. */
export function projectGrants(choice, ids) {
  if (choice === "all") return [ALL_PROJECTS];
  if (choice === "none") return [];
  return listOf(ids);
}

/** The choice and ids that show `projects` in the project field (the reverse of `projectGrants`). */
export function projectChoice(projects) {
  if (!projects?.length) return { choice: "none", ids: "" };
  if (projects.includes(ALL_PROJECTS)) return { choice: "all", ids: "" };
  return { choice: "some", ids: projects.join(", ") };
}

const DAY_MS = 86_400_000;

/**
 * The past hours a planned maintenance window is best judged on: its same hours one day before, or else one
 * week before, whichever has passed first; at most 7 days long (simulate's bound). Null when neither has passed
 * or the times are not a window: the caller then judges on the last 24 hours.
 */
export function sameHoursBefore(startsMs, endsMs, now = Date.now()) {
  if (!Number.isFinite(startsMs) || !Number.isFinite(endsMs) || endsMs <= startsMs) return null;
  const ends = Math.min(endsMs, startsMs + 7 * DAY_MS);
  for (const [days, label] of [
    [1, "its same hours one day before"],
    [7, "its same hours one week before"],
  ]) {
    if (ends - days * DAY_MS <= now) {
      const since = new Date(startsMs - days * DAY_MS).toISOString();
      return { since, until: new Date(ends - days * DAY_MS).toISOString(), label };
    }
  }
  return null;
}
