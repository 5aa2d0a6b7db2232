// The audit an operator reads: one engine's check decisions (with a "Why?" on each denial) and the
// admin changes.
import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, useAsync } from "../components/async.jsx";
import { Detail } from "../components/dialogs.jsx";
import { Badge, Json, Tabs } from "../components/display.jsx";
import { ageColumn, PagedTable, usePages } from "../components/tables.jsx";

const TABS = [
  ["engine", "Engine decisions"],
  ["admin", "Admin changes"],
];

export function Audit() {
  const [tab, setTab] = useState("engine");
  return (
    <div class="page">
      <Tabs label="Audit views" tabs={TABS} tab={tab} onSelect={setTab}>
        {tab === "engine" ? <EngineAudit /> : <AdminAudit />}
      </Tabs>
    </div>
  );
}

function EngineFilter({ label, value, onSubmit, required }) {
  const [draft, setDraft] = useState(value);
  return (
    <form
      class="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(draft.trim());
      }}
    >
      <label class="inline">
        {label}
        <input name="audit_engine" required={required} value={draft} placeholder="engine id" onInput={(e) => setDraft(e.target.value)} />
      </label>
      <button type="submit" class="secondary">
        Show
      </button>
    </form>
  );
}

function EngineAudit() {
  const { api, session } = useCtx();
  const [engine, setEngine] = useState(session.engineId === "admin" ? "" : session.engineId);
  const [why, setWhy] = useState(null);
  const pages = usePages(
    (cursor) => (engine ? api.get("/monitoring/audit", { engine_id: engine, cursor }) : Promise.resolve({ decisions: [] })),
    (p) => p.decisions,
    [api, engine],
  );
  const columns = [
    ageColumn("When", (r) => r.timestamp),
    { label: "Check", cell: (r) => <span class="mono">{`${r.platform}.${r.action_type}`}</span> },
    { label: "Project", cell: (r) => r.project_id || "–" },
    { label: "Asked by", cell: (r) => r.caller_id || engine },
    {
      label: "Decision",
      cell: (r) => (
        <>
          <Badge kind={r.allowed ? "ok" : "critical"}>{r.allowed ? "allowed" : r.status === "error" ? "error" : "denied"}</Badge> {r.rule && <span class="mono">{r.rule}</span>}
          {r.reason && <div class="muted">{r.reason}</div>}
        </>
      ),
    },
    {
      label: "",
      class: "row-actions",
      cell: (r) =>
        !r.allowed && (
          <button type="button" class="secondary" onClick={() => setWhy(r)} aria-label={`Why was ${r.platform}.${r.action_type} denied (${r.request_id})?`}>
            Why?
          </button>
        ),
    },
  ];
  return (
    <section class="card">
      <h2>One engine's decisions</h2>
      <EngineFilter label="Engine" value={engine} onSubmit={setEngine} required />
      {engine ? (
        <PagedTable pages={pages} columns={columns} label="Loading decisions" empty="No checks of this engine." noun="decisions" moreLabel="Older decisions" />
      ) : (
        <p class="muted">Name an engine to see its check decisions, whoever asked them.</p>
      )}
      {why && <Why check={{ ...why, engine_id: engine }} onClose={() => setWhy(null)} />}
    </section>
  );
}

/**
 * The steps of a check, decided again now with `explain: true`: on behalf of the checked engine
 * (`checks:on_behalf`, which admin holds), since only that engine may ask its own check otherwise.
 */
export function Why({ check, onClose }) {
  const { api, session } = useCtx();
  const self = check.engine_id === session.engineId;
  const state = useAsync(
    () =>
      api.post("/actions/check", {
        ...(self ? {} : { engine_id: check.engine_id }),
        platform: check.platform,
        action_type: check.action_type,
        ...(check.project_id ? { project_id: check.project_id } : {}),
        explain: true,
      }),
    [api, check],
  );
  return (
    <Detail title={`Why? ${check.platform}.${check.action_type} for ${check.engine_id}`} onClose={onClose}>
      {check.rule && (
        <p>
          Recorded: <Badge kind="critical">denied</Badge> <span class="mono">{check.rule}</span> {check.reason}
        </p>
      )}
      <p class="muted">The same check decided again now, step by step (the engine's grants and the catalog of today).</p>
      <Async state={state} label="Explaining" isEmpty={() => false}>
        {(answer) => <Steps explanation={answer.explanation} allowed={answer.allowed} />}
      </Async>
    </Detail>
  );
}

export function Steps({ explanation, allowed }) {
  if (!explanation) return <p class="muted">No explanation in the answer.</p>;
  return (
    <>
      <p role="status" aria-label="Decided by">
        {allowed ? "Allowed now: every step passes." : `Denied now by ${explanation.decided_by}.`}
      </p>
      <ol class="steps" aria-label="Decision steps">
        {explanation.steps.map((s) => (
          <li>
            <Badge kind={s.outcome === "fail" ? "critical" : s.outcome === "pass" ? "ok" : "muted"}>{s.outcome}</Badge> <span class="mono">{s.rule}</span> {s.detail}
          </li>
        ))}
      </ol>
      <p class="muted">
        engine revision {explanation.engine_revision || "–"} · catalog revision {explanation.catalog_revision || "–"}
      </p>
    </>
  );
}

function summary(value) {
  if (value === undefined || value === null) return "";
  if (typeof value !== "object") return String(value);
  return Object.entries(value)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(" · ");
}

function AdminAudit() {
  const { api } = useCtx();
  const [engine, setEngine] = useState("");
  const [shown, setShown] = useState(null);
  const pages = usePages(
    (cursor) => api.get("/monitoring/audit", { kind: "admin", engine_id: engine || undefined, cursor }),
    (p) => p.changes,
    [api, engine],
  );
  const columns = [
    ageColumn("When", (r) => r.timestamp),
    { label: "By", cell: (r) => r.by },
    { label: "Operation", cell: (r) => <span class="mono">{r.operation}</span> },
    { label: "Target", cell: (r) => r.target },
    {
      label: "Change",
      cell: (r) => (
        <>
          {r.before !== undefined && r.before !== null && <div class="muted">before {summary(r.before)}</div>}
          {r.after !== undefined && r.after !== null && <div>after {summary(r.after)}</div>}
          {r.reason && <div class="muted">{r.reason}</div>}
        </>
      ),
    },
    { label: "Status", cell: (r) => r.status },
    {
      label: "",
      class: "row-actions",
      cell: (r) => (
        <button type="button" class="link" onClick={() => setShown(r)} aria-label={`Details of ${r.operation} ${r.target}`}>
          Details
        </button>
      ),
    },
  ];
  return (
    <section class="card">
      <h2>Admin changes</h2>
      <EngineFilter label="By or about engine" value={engine} onSubmit={setEngine} />
      <PagedTable pages={pages} columns={columns} label="Loading admin changes" empty="No admin changes." noun="changes" moreLabel="Older changes" />
      {shown && (
        <Detail title={`${shown.operation} ${shown.target || ""}`} onClose={() => setShown(null)}>
          <Json value={shown} />
        </Detail>
      )}
    </section>
  );
}
