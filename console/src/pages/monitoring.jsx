import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Empty, useAsync } from "../components/async.jsx";
import { Detail, useConfirm } from "../components/dialogs.jsx";
import { Badge, Json, Tabs } from "../components/display.jsx";
import { ageColumn, PagedTable, Table, usePages } from "../components/tables.jsx";
import { ago, count, rangeFor, sinceFor, stamp } from "../format.js";
import { hashParams, links, linkTo, shifted } from "../links.js";
import { Deliveries } from "./alerting.jsx";
import { SessionReplay } from "./session.jsx";

const TABS = [
  ["logs", "Logs"],
  ["errors", "Error groups"],
  ["alerts", "Alerts"],
  ["audit", "Audit timeline"],
  ["sessions", "Session replay"],
];

export function Monitoring() {
  const { project } = useCtx();
  const params = hashParams();
  const [tab, setTab] = useState(TABS.some(([id]) => id === params.tab) ? params.tab : "logs");
  if (!project) return <p class="notice">Choose a project (in the header) to search its logs, errors, alerts and audit trail.</p>;
  return (
    <div class="page">
      <Tabs label="Monitoring views" tabs={TABS} tab={tab} onSelect={setTab}>
        {tab === "logs" && <Logs params={params} />}
        {tab === "errors" && <Errors fingerprint={params.fingerprint} />}
        {tab === "alerts" && <Alerts />}
        {tab === "audit" && <Audit />}
        {tab === "sessions" && <SessionReplay initial={params.session || ""} />}
      </Tabs>
    </div>
  );
}

const EMPTY_FILTERS = {
  engine: "",
  platform: "",
  status: "",
  event_type: "",
  flow_id: "",
  session_id: "",
  request_id: "",
  version: "",
  environment: "",
  fingerprint: "",
  range: "",
  since: "",
  until: "",
  limit: "50",
};
export const RELATIVE_RANGES = [
  ["1h", "last hour"],
  ["24h", "last 24 hours"],
  ["7d", "last 7 days"],
];

/** The query of a log search: a relative range becomes since/until at the moment of searching. */
function logQuery({ range, ...filters }) {
  return range ? { ...filters, ...rangeFor(range) } : filters;
}

const LOG_COLUMNS = (select) => [
  {
    label: "Time",
    cell: (e) => (
      <button type="button" class="link" onClick={() => select(e)} aria-label={`Details of event ${e.event_id}`}>
        {stamp(e.timestamp)}
      </button>
    ),
  },
  { label: "Engine", cell: (e) => e.engine || "–" },
  { label: "Type", cell: (e) => e.event_type },
  { label: "Platform / action", cell: (e) => [e.platform, e.action].filter(Boolean).join(" / ") || "–" },
  { label: "Status", cell: (e) => <Badge kind={/error|fail/.test(e.status || "") ? "bad" : "ok"}>{e.status || "–"}</Badge> },
  { label: "Message", class: "clip-wide", cell: (e) => e.message || "" },
];

/** The filters a link asked for (`#/monitoring?tab=logs&fingerprint=…&status=error`). */
function linkedFilters(params) {
  const given = Object.fromEntries(Object.entries(params || {}).filter(([k]) => k in EMPTY_FILTERS));
  return { ...EMPTY_FILTERS, ...given };
}

function Logs({ params }) {
  const { api, project } = useCtx();
  const [draft, setDraft] = useState(() => linkedFilters(params));
  const [filters, setFilters] = useState(() => logQuery(linkedFilters(params)));
  const [selected, setSelected] = useState(null);
  const pages = usePages((cursor) => api.get("/monitoring/logs", { project_id: project, ...filters, cursor }), (p) => p.logs, [api, project, filters]);
  const field = (name, label, props = {}) => (
    <label>
      {label}
      <input name={name} value={draft[name]} onInput={(e) => setDraft({ ...draft, [name]: e.target.value })} {...props} />
    </label>
  );
  return (
    <>
      <form
        class="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(logQuery(draft));
        }}
        aria-label="Log filters"
      >
        {field("engine", "Engine")}
        {field("platform", "Platform")}
        {field("status", "Status", { placeholder: "error, success…" })}
        {field("event_type", "Event type")}
        {field("flow_id", "Flow id")}
        {field("session_id", "Session id")}
        {field("request_id", "Request id")}
        {field("version", "Version")}
        {field("environment", "Environment")}
        {field("fingerprint", "Error group", { placeholder: "fingerprint" })}
        <label>
          Range
          <select name="range" value={draft.range} onChange={(e) => setDraft({ ...draft, range: e.target.value })}>
            <option value="">from the fields below</option>
            {RELATIVE_RANGES.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
        {!draft.range && field("since", "Since", { placeholder: "2026-12-01T10:00:00Z" })}
        {!draft.range && field("until", "Until", { placeholder: "ISO-8601 or epoch" })}
        {field("limit", "Per page", { type: "number", min: "1", max: "1000" })}
        <div class="actions">
          <button type="submit" class="primary">
            Search
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(EMPTY_FILTERS);
              setFilters(EMPTY_FILTERS);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <section class="card">
        <h2>Events</h2>
        <PagedTable pages={pages} columns={LOG_COLUMNS(setSelected)} class="clickable" label="Searching" empty="No events match." noun="events" moreLabel="Older events" />
      </section>
      {selected && (
        <Detail title={`Event ${selected.event_id || ""}`} onClose={() => setSelected(null)}>
          <EventLinks event={selected} />
          <Json value={selected} />
        </Detail>
      )}
    </>
  );
}

/** From an event to what it belongs to: its error group, its session, its request's records, its flow's events. */
function EventLinks({ event }) {
  const items = [
    event.fingerprint && <a href={links.errorGroup(event.fingerprint)}>its error group</a>,
    event.session_id && <a href={links.session(event.session_id)}>replay session {event.session_id}</a>,
    event.request_id && <a href={links.search(event.request_id)}>request {event.request_id}</a>,
    event.flow_id && <a href={linkTo("monitoring", { tab: "logs", flow_id: event.flow_id })}>flow {event.flow_id}</a>,
    event.version && <a href={links.versionErrors(event.version, event.environment)}>errors of {event.version}</a>,
  ].filter(Boolean);
  return items.length ? <p class="links">{items.map((item, i) => [i ? " · " : "", item])}</p> : null;
}

/** The columns of an error-groups table; `extra` columns (a trend) go before the last-seen ones. */
export function errorGroupColumns(extra = [], seen = [ageColumn("First seen", (g) => g.first_seen)]) {
  return [
    {
      label: "Error",
      cell: (g) => (
        <>
          <Badge kind={g.severity}>{g.severity}</Badge> <strong>{g.error_type || "error"}</strong>
          <div class="muted clip-wide">{g.sample_message}</div>
        </>
      ),
    },
    { label: "Platform", cell: (g) => g.platform || "–" },
    { label: "Engine", cell: (g) => g.engine || "–" },
    { label: "Count", class: "num", cell: (g) => count(g.count) },
    ...extra,
    ...seen,
    ageColumn("Last seen", (g) => g.last_seen),
    {
      label: "Go to",
      class: "row-actions",
      cell: (g) => (
        <>
          <a href={links.groupEvents(g.fingerprint)} aria-label={`Events of ${g.error_type || "error"} on ${g.platform || "–"}`}>
            Events
          </a>
          {" · "}
          <a href={links.errorGroup(g.fingerprint)} aria-label={`Deployments around ${g.error_type || "error"} on ${g.platform || "–"}`}>
            Deployments
          </a>
        </>
      ),
    },
  ];
}

function Errors({ fingerprint }) {
  const { api, project } = useCtx();
  const [range, setRange] = useState(fingerprint ? "30d" : "24h");
  const state = useAsync(() => api.get("/monitoring/errors", { project_id: project, since: sinceFor(range) }), [api, project, range]);
  const focused = fingerprint && state.data?.errors?.find((g) => g.fingerprint === fingerprint);
  return (
    <>
      {fingerprint && state.data && (focused ? <GroupAround group={focused} /> : <p class="notice">That error group has no occurrence in this range.</p>)}
      <section class="card">
        <div class="toolbar">
          <h2>Error groups</h2>
          <label class="inline">
            Since
            <select value={range} onChange={(e) => setRange(e.target.value)} name="errors_range">
              <option value="1h">1 hour</option>
              <option value="24h">24 hours</option>
              <option value="7d">7 days</option>
              <option value="30d">30 days</option>
            </select>
          </label>
        </div>
        <Async state={state} label="Loading error groups" empty="No errors in this range." isEmpty={(d) => !d?.errors?.length}>
          {(data) => <Table columns={errorGroupColumns()} rows={data.errors} />}
        </Async>
      </section>
    </>
  );
}

const AROUND_SECONDS = 24 * 3600; // deployments this long before an error group's first occurrence count as "around" it

/**
 * One error group with the deployments around it: those from a day before its first occurrence to its
 * last, each marked before, during or after, so "which release brought this?" is one look.
 */
function GroupAround({ group }) {
  const { api, project } = useCtx();
  const deployments = useAsync(
    () => api.get("/monitoring/deployments", { project_id: project, since: shifted(group.first_seen, -AROUND_SECONDS), limit: 100 }),
    [api, project, group.fingerprint],
  );
  const when = (d) => (d.created_at < group.first_seen ? "before first seen" : d.created_at <= group.last_seen ? "while occurring" : "after last seen");
  const columns = [
    ageColumn("Deployed", (d) => d.created_at),
    { label: "Environment", cell: (d) => d.environment },
    { label: "Version", class: "mono", cell: (d) => `${d.previous_version || "–"} → ${d.version}` },
    { label: "Action", cell: (d) => `${d.action}${d.source_env ? ` from ${d.source_env}` : ""} by ${d.actor}` },
    { label: "When", cell: (d) => <Badge kind={when(d) === "before first seen" ? "warn" : ""}>{when(d)}</Badge> },
    { label: "Errors", cell: (d) => <a href={links.versionErrors(d.version, d.environment)}>errors of {d.version}</a> },
  ];
  return (
    <section class="card" aria-label="Error group">
      <h2>
        <Badge kind={group.severity}>{group.severity}</Badge> {group.error_type || "error"} on {group.platform || "–"}
      </h2>
      <p class="muted clip-wide">{group.sample_message}</p>
      <dl class="facts">
        <dt>Occurrences</dt>
        <dd>{count(group.count)}</dd>
        <dt>First seen</dt>
        <dd>
          {stamp(group.first_seen)} {group.first_seen_version && <span class="mono">({group.first_seen_version})</span>}
        </dd>
        <dt>Last seen</dt>
        <dd>
          {stamp(group.last_seen)} {group.last_seen_version && <span class="mono">({group.last_seen_version})</span>}
        </dd>
      </dl>
      <p>
        <a href={links.groupEvents(group.fingerprint)}>Its events</a>
      </p>
      <h3>Deployments around it</h3>
      <Async
        state={deployments}
        label="Loading deployments"
        empty="No deployment from a day before its first occurrence on."
        isEmpty={(d) => !d?.deployments?.filter((x) => x.created_at <= group.last_seen).length}
      >
        {(data) => <Table columns={columns} rows={data.deployments.filter((d) => d.created_at <= group.last_seen)} />}
      </Async>
    </section>
  );
}

/** From an alert to its error group and events (an error alert), or to the events around it. */
export function AlertLinks({ alert }) {
  if (alert.fingerprint) {
    return (
      <div class="links">
        <a href={links.errorGroup(alert.fingerprint)}>Error group</a> · <a href={links.groupEvents(alert.fingerprint)}>Events</a>
      </div>
    );
  }
  return (
    <div class="links">
      <a href={links.eventsAround(alert.created_at, { flow_id: alert.flow_id })}>Events around it</a>
    </div>
  );
}

function Alerts() {
  const { api, project, can } = useCtx();
  const manage = can("alerts:manage");
  // Unresolved (open and acknowledged) by default: acknowledging an alert does not make it vanish.
  const [status, setStatus] = useState("unresolved");
  const [ask, confirmation] = useConfirm();
  const [shown, setShown] = useState(null);
  const pages = usePages(
    (cursor) => api.get("/monitoring/alerts", { project_id: project, status: status || undefined, cursor }),
    (p) => p.alerts,
    [api, project, status],
  );
  const transition = (alert, action) =>
    ask({
      title: `${action === "resolve" ? "Resolve" : "Acknowledge"} this alert?`,
      confirmLabel: action === "resolve" ? "Resolve" : "Acknowledge",
      body: (
        <p>
          <Badge kind={alert.severity}>{alert.severity}</Badge> {alert.message}
        </p>
      ),
      run: async () => {
        await api.post(`/monitoring/alerts/${encodeURIComponent(alert.alert_id)}/${action}`, {});
        pages.state.reload();
      },
    });
  const stateOf = (a) => a.state || a.status;
  const columns = [
    ageColumn("Raised", (a) => a.created_at),
    { label: "Severity", cell: (a) => <Badge kind={a.severity}>{a.severity}</Badge> },
    {
      label: "Alert",
      cell: (a) => (
        <>
          <strong>{a.event_type}</strong> {a.message}
          <div class="muted">
            by {a.triggered_by || "–"} · <span class="mono">{a.alert_id}</span>
          </div>
          <AlertLinks alert={a} />
          <button type="button" class="link" onClick={() => setShown(a)} aria-label={`Deliveries of alert ${a.alert_id}`}>
            Deliveries
          </button>
        </>
      ),
    },
    {
      label: "State",
      cell: (a) => (
        <>
          {stateOf(a)}
          {a.acknowledged_by && <div class="muted">ack by {a.acknowledged_by} {ago(a.acknowledged_at)}</div>}
          {a.resolved_by && <div class="muted">resolved by {a.resolved_by} {ago(a.resolved_at)}</div>}
        </>
      ),
    },
    {
      label: "Actions",
      show: manage,
      class: "row-actions",
      cell: (a) => (
        <>
          {stateOf(a) === "open" && (
            <button type="button" class="secondary" onClick={() => transition(a, "acknowledge")}>
              Acknowledge
            </button>
          )}
          {stateOf(a) !== "resolved" && (
            <button type="button" class="primary" onClick={() => transition(a, "resolve")}>
              Resolve
            </button>
          )}
        </>
      ),
    },
  ];
  return (
    <section class="card">
      <div class="toolbar">
        <h2>Alerts</h2>
        <label class="inline">
          Show
          <select value={status} onChange={(e) => setStatus(e.target.value)} name="alert_status">
            <option value="unresolved">unresolved</option>
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
            <option value="">all</option>
          </select>
        </label>
      </div>
      <PagedTable pages={pages} columns={columns} label="Loading alerts" empty="No alerts here." noun="alerts" moreLabel="Older alerts" />
      {confirmation}
      {shown && (
        <Detail title={`Deliveries of ${shown.event_type}`} onClose={() => setShown(null)}>
          <Deliveries alertId={shown.alert_id} />
        </Detail>
      )}
    </section>
  );
}

function Audit() {
  const { api, project } = useCtx();
  const [draft, setDraft] = useState({ by: "flow_id", value: "" });
  const [asked, setAsked] = useState(null);
  return (
    <>
      <form
        class="card filters"
        aria-label="Audit timeline"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ ...draft });
        }}
      >
        <label>
          Of
          <select name="audit_by" value={draft.by} onChange={(e) => setDraft({ ...draft, by: e.target.value })}>
            <option value="flow_id">a flow</option>
            <option value="user_id">a user</option>
            <option value="session_id">a session</option>
            <option value="">the whole project</option>
          </select>
        </label>
        {draft.by && (
          <label>
            Id
            <input name="audit_id" required value={draft.value} onInput={(e) => setDraft({ ...draft, value: e.target.value })} />
          </label>
        )}
        <div class="actions">
          <button type="submit" class="primary">
            Show timeline
          </button>
        </div>
      </form>
      {asked ? <Timeline key={JSON.stringify(asked)} asked={asked} api={api} project={project} /> : <Empty>Choose a flow, user or session.</Empty>}
    </>
  );
}

function Timeline({ asked, api, project }) {
  const [selected, setSelected] = useState(null);
  const query = { project_id: project, limit: 200 };
  if (asked.by) query[asked.by] = asked.value.trim();
  const state = useAsync(() => api.get("/monitoring/audit", query), [api, project]);
  return (
    <section class="card">
      <h2>Timeline</h2>
      <Async state={state} label="Loading the timeline" empty="Nothing recorded for this." isEmpty={(d) => !d?.timeline?.length}>
          {(data) => (
            <>
              <p class="muted">
                {count(data.counts?.events)} events · {count(data.counts?.alerts)} alerts · {count(data.counts?.decisions)} decisions
              </p>
              <ol class="timeline">
                {data.timeline.map((entry) => (
                  <li class={`kind-${entry.kind}`}>
                    <button type="button" class="link" onClick={() => setSelected(entry)}>
                      {stamp(entry.timestamp)}
                    </button>{" "}
                    <Badge kind={entry.kind === "alert" ? "bad" : entry.kind === "decision" ? "info" : ""}>{entry.kind}</Badge>{" "}
                    {entry.kind === "event" && `${entry.engine || ""} ${entry.event_type} ${entry.platform || ""} ${entry.status || ""}`}
                    {entry.kind === "alert" && `${entry.severity} ${entry.message}`}
                    {entry.kind === "decision" && `${entry.decision} ${entry.engine_id} ${entry.platform || ""} ${entry.action_type || ""} → ${entry.status} `}
                    {entry.kind === "decision" && entry.request_id && <a href={links.search(entry.request_id)}>request {entry.request_id}</a>}
                    {entry.kind.startsWith("deployment") && (
                      <>
                        {`${entry.action} ${entry.environment}: ${entry.previous_version || "–"} → ${entry.version} `}
                        <a href={links.versionErrors(entry.version, entry.environment)}>errors of {entry.version}</a>
                      </>
                    )}
                  </li>
                ))}
              </ol>
            </>
          )}
        </Async>
      {selected && (
        <Detail title={`${selected.kind} at ${stamp(selected.timestamp)}`} onClose={() => setSelected(null)}>
          <Json value={selected} />
        </Detail>
      )}
    </section>
  );
}
