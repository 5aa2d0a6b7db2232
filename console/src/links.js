// Links between the console's pages: `#/<page>?<params>`. A page reads its params once, when it opens
// (the shell remounts it whenever the hash changes), so every link is a plain <a href> that the
// browser's history, a new tab and a copied address all keep.
import { queryString } from "./api.js";

/** The params of the current address (`#/monitoring?tab=logs&status=error` -> {tab, status}). */
export function hashParams(hash = location.hash) {
  const query = hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

/** The address of `page` with `params` (empty values left out). */
export function linkTo(page, params = {}) {
  return `#/${page}${queryString(params)}`;
}

/** An ISO time moved by `seconds` (for "around" links: the minutes before and after a moment). */
export function shifted(iso, seconds) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms + seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

// Where each kind of record lives.
export const links = {
  errorGroup: (fingerprint) => linkTo("monitoring", { tab: "errors", fingerprint }),
  groupEvents: (fingerprint) => linkTo("monitoring", { tab: "logs", fingerprint, status: "error" }),
  eventsAround: (at, extra = {}) => linkTo("monitoring", { tab: "logs", since: shifted(at, -900), until: shifted(at, 300), ...extra }),
  versionErrors: (version, environment) => linkTo("monitoring", { tab: "logs", version, environment, status: "error" }),
  decision: (decisionId) => linkTo("planning", { decision: decisionId }),
  search: (q) => linkTo("search", { q }),
  session: (sessionId) => linkTo("monitoring", { tab: "sessions", session: sessionId }),
  engine: (engineId) => linkTo("engines", { engine: engineId }),
  project: (projectId) => linkTo("overview", { project: projectId }),
};
