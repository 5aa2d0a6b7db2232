import { useCtx } from "../app.jsx";
import { Async, useAsync } from "../components/async.jsx";
import { Badge } from "../components/display.jsx";
import { ago, describeProjects, stamp } from "../format.js";
import { hashParams, links, linkTo } from "../links.js";
import { AlertLinks } from "./monitoring.jsx";

const ENGINE_ID = /^[a-z0-9_-]{1,64}$/;
const PROJECT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A 404 (or a 403 for a project not granted) means "not this kind of thing"; other errors are shown. */
function absent(error) {
  if (error.status === 404 || error.status === 403 || error.status === 422) return null;
  throw error;
}

/**
 * Everything an id can be, looked up at once: an engine, a project, an alert, a request id (its events
 * and decisions in the open project) or a decision id (in the open project).
 */
async function find(api, can, session, project, q) {
  const lookups = [];
  if (ENGINE_ID.test(q) && can("admin")) {
    lookups.push(api.get(`/engines/${encodeURIComponent(q)}`).then((engine) => ({ kind: "engine", engine }), absent));
  }
  if (PROJECT_ID.test(q)) {
    lookups.push(
      Promise.all([
        api.get(`/env/${encodeURIComponent(q)}`).catch(absent),
        api.get("/monitoring/logs", { project_id: q, limit: 1 }).catch(absent),
      ]).then(([envs, logs]) =>
        (envs?.environments?.length || logs?.logs?.length) ? { kind: "project", project: q, environments: envs?.environments || [], events: !!logs?.logs?.length } : null,
      ),
    );
  }
  lookups.push(findAlert(api, project, q));
  if (project) {
    lookups.push(
      api.get("/monitoring/logs", { project_id: project, request_id: q, limit: 50 }).then(
        (page) => (page.logs.length ? { kind: "request-events", events: page.logs } : null),
        absent,
      ),
    );
    lookups.push(
      api.get("/plan/decisions", { project_id: project, decision_id: q }).then(
        (page) => (page.decisions.length ? { kind: "decision", decision: page.decisions[0] } : null),
        absent,
      ),
    );
    lookups.push(
      api.get("/plan/decisions", { project_id: project, request_id: q }).then(
        (page) => (page.decisions.length ? { kind: "request-decisions", decisions: page.decisions } : null),
        absent,
      ),
    );
  }
  return (await Promise.all(lookups)).filter(Boolean);
}

/** An alert by id: `GET /monitoring/alerts/{id}` where the server has it, else among the open project's alerts. */
async function findAlert(api, project, q) {
  try {
    return { kind: "alert", alert: await api.get(`/monitoring/alerts/${encodeURIComponent(q)}`) };
  } catch (error) {
    if (!(error.status === 404 && error.code === "route_not_found")) return absent(error);
  }
  if (!project) return null;
  const page = await api.get("/monitoring/alerts", { project_id: project, limit: 1000 }).catch(absent);
  const alert = page?.alerts?.find((a) => a.alert_id === q);
  return alert ? { kind: "alert", alert } : null;
}

export function Search() {
  const { api, can, session, project } = useCtx();
  const q = (hashParams().q || "").trim();
  const state = useAsync(() => (q ? find(api, can, session, project, q) : []), [api, project, q]);
  return (
    <div class="page">
      <p class="muted">
        Looked up: <span class="mono">{q || "nothing"}</span> as an engine, a project, an alert id
        {project ? `, and a request or decision id in project ${project}` : " (open a project to look up request and decision ids in it)"}.
      </p>
      <Async state={state} label="Searching" empty={q ? "Nothing has this id." : "Type an id in the Find box."}>
        {(found) => (
          <ul class="list results">
            {found.map((r) => (
              <li>
                <Result result={r} />
              </li>
            ))}
          </ul>
        )}
      </Async>
    </div>
  );
}

function Result({ result: r }) {
  if (r.kind === "engine") {
    const e = r.engine;
    return (
      <>
        <Badge kind="info">engine</Badge> <a href={links.engine(e.engine_id)} class="mono">{e.engine_id}</a> <Badge kind={e.status === "active" ? "ok" : "bad"}>{e.status}</Badge>{" "}
        <span class="muted">
          projects: {describeProjects(e.projects)} · last seen {ago(e.last_seen_at)}
        </span>
      </>
    );
  }
  if (r.kind === "project") {
    return (
      <>
        <Badge kind="info">project</Badge> <a href={links.project(r.project)} class="mono">{r.project}</a>{" "}
        <span class="muted">
          {r.environments.length ? `environments: ${r.environments.map((e) => `${e.env} ${e.version || ""}`.trim()).join(", ")}` : "no environments"}
          {r.events ? " · has events" : ""}
        </span>{" "}
        · <a href={linkTo("environments", { project: r.project })}>environments</a>
      </>
    );
  }
  if (r.kind === "alert") {
    const a = r.alert;
    return (
      <>
        <Badge kind="info">alert</Badge> <Badge kind={a.severity}>{a.severity}</Badge> {a.message}{" "}
        <span class="muted">
          · {a.status} · project {a.project_id} · raised {ago(a.created_at)}
        </span>
        <AlertLinks alert={a} />
      </>
    );
  }
  if (r.kind === "decision") {
    const d = r.decision;
    return (
      <>
        <Badge kind="info">decision</Badge> <a href={links.decision(d.decision_id)} class="mono">{d.decision_id}</a> <Badge kind={d.allow ? "ok" : "bad"}>{d.outcome}</Badge>{" "}
        <span class="muted">
          {d.environment} · {d.deployment_id} · {stamp(d.evaluated_at)}
        </span>
      </>
    );
  }
  if (r.kind === "request-decisions") {
    return (
      <>
        <Badge kind="info">request</Badge> decisions made in this request:{" "}
        {r.decisions.map((d, i) => [i ? ", " : "", <a href={links.decision(d.decision_id)} class="mono">{d.decision_id}</a>])}
      </>
    );
  }
  return (
    <>
      <Badge kind="info">request</Badge> {r.events.length} event(s) carry this request id ·{" "}
      <a href={linkTo("monitoring", { tab: "logs", request_id: r.events[0].request_id })}>show them</a>
    </>
  );
}
