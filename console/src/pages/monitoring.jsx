import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Badge, Confirm, Detail, Empty, ErrorBox, Json, Loading, useAsync } from "../components.jsx";
import { ago, count, sinceFor, stamp } from "../format.js";

const TABS = [
  ["logs", "Logs"],
  ["errors", "Error groups"],
  ["alerts", "Alerts"],
  ["audit", "Audit timeline"],
];

export function Monitoring() {
  const { project } = useCtx();
  const [tab, setTab] = useState("logs");
  if (!project) return <p class="notice">Choose a project (in the header) to search its logs, errors, alerts and audit trail.</p>;
  return (
    <div class="page">
      <div class="tabs" role="tablist" aria-label="Monitoring views">
        {TABS.map(([id, label]) => (
          <button type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "logs" && <Logs />}
        {tab === "errors" && <Errors />}
        {tab === "alerts" && <Alerts />}
        {tab === "audit" && <Audit />}
      </div>
    </div>
  );
}

const EMPTY_FILTERS = { engine: "", platform: "", status: "", event_type: "", flow_id: "", since: "", until: "", limit: "50" };

function Logs() {
  const { api, project } = useCtx();
  const [draft, setDraft] = useState(EMPTY_FILTERS);
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const [pages, setPages] = useState([]);
  const [more, setMore] = useState({ loading: false, error: null });
  const [selected, setSelected] = useState(null);
  const state = useAsync(async () => {
    const first = await api.get("/monitoring/logs", { project_id: project, ...filters });
    setPages([]);
    return first;
  }, [api, project, filters]);
  const field = (name, label, props = {}) => (
    <label>
      {label}
      <input name={name} value={draft[name]} onInput={(e) => setDraft({ ...draft, [name]: e.target.value })} {...props} />
    </label>
  );
  const cursor = pages.length ? pages[pages.length - 1].next_cursor : state.data?.next_cursor;
  async function loadMore() {
    setMore({ loading: true, error: null });
    try {
      const page = await api.get("/monitoring/logs", { project_id: project, ...filters, cursor });
      setPages([...pages, page]);
      setMore({ loading: false, error: null });
    } catch (error) {
      setMore({ loading: false, error });
    }
  }
  return (
    <>
      <form
        class="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
        aria-label="Log filters"
      >
        {field("engine", "Engine")}
        {field("platform", "Platform")}
        {field("status", "Status", { placeholder: "error, success…" })}
        {field("event_type", "Event type")}
        {field("flow_id", "Flow id")}
        {field("since", "Since", { placeholder: "2026-12-01T10:00:00Z" })}
        {field("until", "Until", { placeholder: "ISO-8601 or epoch" })}
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
        <Async state={state} label="Searching" empty="No events match." isEmpty={(d) => !d?.logs?.length}>
          {(first) => {
            const rows = [first, ...pages].flatMap((p) => p.logs);
            return (
              <>
                <div class="scroll">
                  <table class="clickable">
                    <thead>
                      <tr>
                        <th scope="col">Time</th>
                        <th scope="col">Engine</th>
                        <th scope="col">Type</th>
                        <th scope="col">Platform / action</th>
                        <th scope="col">Status</th>
                        <th scope="col">Message</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((e) => (
                        <tr>
                          <td>
                            <button type="button" class="link" onClick={() => setSelected(e)} aria-label={`Details of event ${e.event_id}`}>
                              {stamp(e.timestamp)}
                            </button>
                          </td>
                          <td>{e.engine || "–"}</td>
                          <td>{e.event_type}</td>
                          <td>{[e.platform, e.action].filter(Boolean).join(" / ") || "–"}</td>
                          <td>
                            <Badge kind={/error|fail/.test(e.status || "") ? "bad" : "ok"}>{e.status || "–"}</Badge>
                          </td>
                          <td class="clip-wide">{e.message || ""}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <p class="muted">{count(rows.length)} events shown</p>
                <ErrorBox error={more.error} retry={loadMore} />
                {cursor && (
                  <button type="button" class="secondary" onClick={loadMore} disabled={more.loading}>
                    {more.loading ? "Loading…" : "Older events"}
                  </button>
                )}
              </>
            );
          }}
        </Async>
      </section>
      {selected && (
        <Detail title={`Event ${selected.event_id || ""}`} onClose={() => setSelected(null)}>
          <Json value={selected} />
        </Detail>
      )}
    </>
  );
}

function Errors() {
  const { api, project } = useCtx();
  const [range, setRange] = useState("24h");
  const state = useAsync(() => api.get("/monitoring/errors", { project_id: project, since: sinceFor(range) }), [api, project, range]);
  return (
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
        {(data) => (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Error</th>
                  <th scope="col">Platform</th>
                  <th scope="col">Engine</th>
                  <th scope="col" class="num">Count</th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {data.errors.map((g) => (
                  <tr>
                    <td>
                      <Badge kind={g.severity}>{g.severity}</Badge> <strong>{g.error_type || "error"}</strong>
                      <div class="muted clip-wide">{g.sample_message}</div>
                    </td>
                    <td>{g.platform || "–"}</td>
                    <td>{g.engine || "–"}</td>
                    <td class="num">{count(g.count)}</td>
                    <td title={stamp(g.first_seen)}>{ago(g.first_seen)}</td>
                    <td title={stamp(g.last_seen)}>{ago(g.last_seen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
    </section>
  );
}

function Alerts() {
  const { api, project, can } = useCtx();
  const manage = can("alerts:manage");
  const [status, setStatus] = useState("open");
  const [pending, setPending] = useState(null);
  const state = useAsync(() => api.get("/monitoring/alerts", { project_id: project, status: status || undefined }), [api, project, status]);
  return (
    <section class="card">
      <div class="toolbar">
        <h2>Alerts</h2>
        <label class="inline">
          Show
          <select value={status} onChange={(e) => setStatus(e.target.value)} name="alert_status">
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
            <option value="">all</option>
          </select>
        </label>
      </div>
      <Async state={state} label="Loading alerts" empty="No alerts here." isEmpty={(d) => !d?.alerts?.length}>
        {(data) => (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Raised</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Alert</th>
                  <th scope="col">State</th>
                  {manage && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {data.alerts.map((a) => {
                  const state_ = a.state || a.status;
                  return (
                    <tr>
                      <td title={stamp(a.created_at)}>{ago(a.created_at)}</td>
                      <td>
                        <Badge kind={a.severity}>{a.severity}</Badge>
                      </td>
                      <td>
                        <strong>{a.event_type}</strong> {a.message}
                        <div class="muted">by {a.triggered_by || "–"}</div>
                      </td>
                      <td>
                        {state_}
                        {a.acknowledged_by && <div class="muted">ack by {a.acknowledged_by} {ago(a.acknowledged_at)}</div>}
                        {a.resolved_by && <div class="muted">resolved by {a.resolved_by} {ago(a.resolved_at)}</div>}
                      </td>
                      {manage && (
                        <td class="row-actions">
                          {state_ === "open" && (
                            <button type="button" class="secondary" onClick={() => setPending({ alert: a, action: "acknowledge" })}>
                              Acknowledge
                            </button>
                          )}
                          {state_ !== "resolved" && (
                            <button type="button" class="primary" onClick={() => setPending({ alert: a, action: "resolve" })}>
                              Resolve
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {pending && (
        <Confirm
          title={`${pending.action === "resolve" ? "Resolve" : "Acknowledge"} this alert?`}
          confirmLabel={pending.action === "resolve" ? "Resolve" : "Acknowledge"}
          onClose={() => setPending(null)}
          onConfirm={async () => {
            await api.post(`/monitoring/alerts/${encodeURIComponent(pending.alert.alert_id)}/${pending.action}`, {});
            state.reload();
          }}
        >
          <p>
            <Badge kind={pending.alert.severity}>{pending.alert.severity}</Badge> {pending.alert.message}
          </p>
        </Confirm>
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
      {state.loading && state.data === undefined ? (
        <Loading label="Loading the timeline" />
      ) : (
        <Async state={state} empty="Nothing recorded for this." isEmpty={(d) => !d?.timeline?.length}>
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
                    {entry.kind === "decision" && `${entry.decision} ${entry.engine_id} ${entry.platform || ""} ${entry.action_type || ""} → ${entry.status}`}
                  </li>
                ))}
              </ol>
            </>
          )}
        </Async>
      )}
      {selected && (
        <Detail title={`${selected.kind} at ${stamp(selected.timestamp)}`} onClose={() => setSelected(null)}>
          <Json value={selected} />
        </Detail>
      )}
    </section>
  );
}
