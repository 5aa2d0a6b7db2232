import { useEffect, useMemo, useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Empty, ErrorBox, useAsync } from "../components/async.jsx";
import { Sparkline, TimeChart } from "../components/charts.jsx";
import { DecisionWhyButton } from "../components/decision_why.jsx";
import { Badge } from "../components/display.jsx";
import { EngineAlerts } from "../components/engine_alerts.jsx";
import { Table } from "../components/tables.jsx";
import { ago, count, rangeFor } from "../format.js";
import { links } from "../links.js";
import { errorGroupColumns } from "./monitoring.jsx";

const RANGES = [
  ["15m", "15 min"],
  ["1h", "1 hour"],
  ["6h", "6 hours"],
  ["24h", "24 hours"],
];
const REFRESH_MS = 15000;

/** Re-runs `reload` every `ms` while the tab is visible, and at once when it becomes visible again. */
export function useAutoRefresh(reload, ms) {
  const [hidden, setHidden] = useState(document.hidden);
  useEffect(() => {
    const timer = setInterval(() => {
      if (!document.hidden) reload();
    }, ms);
    const onVisibility = () => {
      setHidden(document.hidden);
      if (!document.hidden) reload();
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [reload, ms]);
  return hidden;
}

function optional(promise) {
  // An API another service has not shipped yet (404 route_not_found) reads as "not available".
  return promise.catch((error) => (error.status === 404 && error.code === "route_not_found" ? { unavailable: true } : Promise.reject(error)));
}

export function Overview() {
  const { api, project } = useCtx();
  const [range, setRange] = useState("1h");
  const [updated, setUpdated] = useState(null);
  const state = useAsync(async () => {
    // Both ends from one clock reading at request time: the span is exactly the range (at most 24 h).
    const { since, until } = rangeFor(range);
    const [overview, alerts, policy, decisions] = await Promise.all([
      api.get("/monitoring/overview", { project_id: project, since, until }),
      project ? optional(api.get("/monitoring/alerts", { project_id: project, status: "open", limit: 10 })) : null,
      optional(api.get("/plan/policy")).catch((error) => ({ error })),
      project ? api.get("/plan/decisions", { project_id: project, limit: 5 }).catch((error) => ({ error })) : null,
    ]);
    setUpdated(new Date());
    return { overview, alerts, policy, decisions };
  }, [api, project, range]);
  const hidden = useAutoRefresh(state.reload, REFRESH_MS);

  return (
    <div class="page">
      <div class="toolbar">
        <div class="segmented" role="group" aria-label="Time range">
          {RANGES.map(([value, label]) => (
            <button type="button" aria-pressed={range === value} onClick={() => setRange(value)}>
              {label}
            </button>
          ))}
        </div>
        <span class="muted" aria-live="polite">
          {hidden ? "Auto-refresh paused while this tab is hidden" : `Refreshes every ${REFRESH_MS / 1000} s`}
          {updated ? ` · updated ${updated.toLocaleTimeString()}` : ""}
        </span>
        <button type="button" class="secondary" onClick={state.reload} disabled={state.loading}>
          {state.loading ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      {!project && <p class="notice">Choose a project (in the header) to see its errors, alerts and decisions. Checks are counted for the whole control plane.</p>}
      <Async state={state} label="Loading the overview">
        {(data) => <OverviewBody data={data} project={project} />}
      </Async>
      <EngineAlerts />
    </div>
  );
}

const DENY_RULE_COLUMNS = [
  { label: "Rule", class: "mono", cell: (r) => r.rule },
  { label: "Denials", class: "num", cell: (r) => count(r.count) },
];
const TREND = { label: "Trend", cell: (g) => <Sparkline values={g.trend} label={`${g.count} occurrences, trend over the range`} /> };
const GROUP_COLUMNS = errorGroupColumns([TREND], []);

function OverviewBody({ data, project }) {
  const { overview, alerts, policy, decisions } = data;
  // Every project's check counters: the API sends them only to engines granted every project.
  const checks = overview.checks;
  const chart = useMemo(
    () => checks && { t: checks.t, allowed: checks.allowed, denied: checks.denied, failed: checks.failed },
    [overview],
  );
  const hidden = <Empty>Check counts span every project: they are shown to engines granted all projects.</Empty>;
  const openAlerts = alerts && !alerts.unavailable ? alerts.alerts || [] : null;
  return (
    <>
      <section class="tiles" aria-label="Totals">
        <Tile label="Checks allowed" value={checks ? count(checks.totals.allowed) : "–"} kind="ok" />
        <Tile label="Checks denied" value={checks ? count(checks.totals.denied) : "–"} kind="bad" />
        <Tile label="Checks failed" value={checks ? count(checks.totals.failed) : "–"} kind="warn" />
        <Tile label="Errors" value={overview.project ? count(overview.project.totals.errors) : "–"} kind="bad" />
        <Tile label="Open alerts" value={openAlerts ? count(openAlerts.length) : "–"} kind={openAlerts?.length ? "bad" : ""} />
      </section>
      <section class="card">
        <h2>Checks per {!checks || checks.step_seconds === 60 ? "minute" : `${checks.step_seconds / 60} minutes`}</h2>
        {!checks ? (
          hidden
        ) : checks.totals.allowed + checks.totals.denied + checks.totals.failed === 0 ? (
          <Empty>No checks in this range.</Empty>
        ) : (
          <TimeChart data={chart} names={["allowed", "denied", "failed"]} label="Checks allowed, denied and failed over time" />
        )}
        {checks?.loss_bound && <p class="muted bound">How current: {checks.loss_bound}.</p>}
      </section>
      <div class="grid2">
        <section class="card">
          <h2>Top deny rules</h2>
          {!checks ? (
            hidden
          ) : checks.top_deny_rules.length ? (
            <Table columns={DENY_RULE_COLUMNS} rows={checks.top_deny_rules} scroll={false} />
          ) : (
            <Empty>No denials in this range.</Empty>
          )}
        </section>
        <section class="card">
          <h2>Open alerts</h2>
          {!project ? (
            <Empty>Choose a project.</Empty>
          ) : !openAlerts ? (
            <Empty>This control plane does not list alerts yet.</Empty>
          ) : openAlerts.length ? (
            <ul class="list">
              {openAlerts.map((a) => (
                <li>
                  <Badge kind={a.severity}>{a.severity}</Badge> {a.message} <span class="muted">· {ago(a.created_at)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No open alerts.</Empty>
          )}
        </section>
      </div>
      <section class="card">
        <h2>Error groups</h2>
        {!overview.project ? (
          <Empty>Choose a project.</Empty>
        ) : overview.project.error_groups.length ? (
          <Table columns={GROUP_COLUMNS} rows={overview.project.error_groups} />
        ) : (
          <Empty>No errors in this range.</Empty>
        )}
      </section>
      <div class="grid2">
        <section class="card">
          <h2>Active policy</h2>
          {policy?.error ? (
            <ErrorBox error={policy.error} />
          ) : policy?.unavailable ? (
            <Empty>Not available.</Empty>
          ) : (
            <dl class="facts">
              <dt>Revision</dt>
              <dd class="mono">{policy.revision || "none"}</dd>
              <dt>Digest</dt>
              <dd class="mono clip">{policy.sha256 || "–"}</dd>
              <dt>Loaded</dt>
              <dd>{ago(policy.loaded_at)}</dd>
              {policy.last_rejected && (
                <>
                  <dt>Last rejected</dt>
                  <dd>
                    <Badge kind="bad">{policy.last_rejected.revision}</Badge> {policy.last_rejected.reason}
                  </dd>
                </>
              )}
            </dl>
          )}
        </section>
        <section class="card">
          <h2>Latest decisions</h2>
          {!project ? (
            <Empty>Choose a project.</Empty>
          ) : decisions?.error ? (
            <ErrorBox error={decisions.error} />
          ) : decisions.decisions.length ? (
            <ul class="list">
              {decisions.decisions.map((d) => (
                <li>
                  <Badge kind={d.allow ? "ok" : "bad"}>{d.outcome}</Badge> {d.environment} · <a href={links.decision(d.decision_id)}>{d.deployment_id}</a>
                  <span class="muted"> · {ago(d.evaluated_at)}</span> <DecisionWhyButton decision={d} />
                  {!d.allow && d.deny_reasons?.length > 0 && <div class="muted">{d.deny_reasons.join("; ")}</div>}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No decisions yet.</Empty>
          )}
        </section>
      </div>
    </>
  );
}

function Tile({ label, value, kind }) {
  return (
    <div class={`tile ${kind || ""}`}>
      <span class="tile-label">{label}</span>
      <span class="tile-value">{value}</span>
    </div>
  );
}

