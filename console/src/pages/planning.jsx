import { useEffect, useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Empty, ErrorBox, useAsync } from "../components/async.jsx";
import { DecisionWhyButton } from "../components/decision_why.jsx";
import { Detail } from "../components/dialogs.jsx";
import { Badge, Json } from "../components/display.jsx";
import { PagedTable, Table, usePages } from "../components/tables.jsx";
import { ago, seconds, stamp } from "../format.js";
import { hashParams, links } from "../links.js";

/** Policy revisions in the order decisions used them (newest first), with when each was first and last used. */
export function revisionsOf(decisions) {
  const seen = new Map();
  for (const d of decisions) {
    const key = `${d.policy?.revision}#${d.policy?.sha256}`;
    const entry = seen.get(key) || { revision: d.policy?.revision || "none", sha256: d.policy?.sha256, first: d.evaluated_at, last: d.evaluated_at, decisions: 0 };
    entry.decisions += 1;
    if (d.evaluated_at < entry.first) entry.first = d.evaluated_at;
    if (d.evaluated_at > entry.last) entry.last = d.evaluated_at;
    seen.set(key, entry);
  }
  return [...seen.values()].sort((a, b) => (a.last < b.last ? 1 : -1));
}

const FACT_COLUMNS = [
  { label: "Fact", class: "mono", cell: ([id]) => id },
  { label: "Value", class: "mono clip", cell: ([, f]) => (f.error ? <span class="bad-text">{f.error}</span> : JSON.stringify(f.value)) },
  {
    label: "Age",
    cell: ([, f]) => (
      <>
        {seconds(f.age_seconds)} <span class="muted">/ max {seconds(f.max_age_seconds)}</span>
      </>
    ),
  },
  { label: "State", cell: ([, f]) => <Badge kind={f.stale ? "warn" : "ok"}>{f.stale ? "stale" : "fresh"}</Badge> },
];

export function Planning() {
  const { api, project } = useCtx();
  const policy = useAsync(() => api.get("/plan/policy"), [api]);
  const facts = useAsync(() => api.get("/plan/facts"), [api]);
  const decisions = usePages(
    (cursor) => (project ? api.get("/plan/decisions", { project_id: project, limit: 100, cursor }) : { decisions: [] }),
    (p) => p.decisions,
    [api, project],
  );
  const [selected, setSelected] = useState(null);
  // A link to one decision (`#/planning?decision=<id>`): looked up in the open project, then shown.
  const linked = hashParams().decision;
  const wanted = useAsync(
    () => (linked && project ? api.get("/plan/decisions", { project_id: project, decision_id: linked }) : null),
    [api, project, linked],
  );
  useEffect(() => {
    if (wanted.data?.decisions?.length) setSelected(wanted.data.decisions[0]);
  }, [wanted.data]);
  const decisionColumns = [
    {
      label: "When",
      cell: (d) => (
        <button type="button" class="link" onClick={() => setSelected(d)}>
          {stamp(d.evaluated_at)}
        </button>
      ),
    },
    {
      label: "Outcome",
      cell: (d) => (
        <>
          <Badge kind={d.allow ? "ok" : "bad"}>{d.outcome}</Badge> {d.fail_safe && <Badge kind="warn">fail-safe</Badge>}
        </>
      ),
    },
    { label: "Deployment", class: "mono", cell: (d) => d.deployment_id },
    { label: "Environment", cell: (d) => d.environment },
    { label: "Reasons", cell: (d) => (d.deny_reasons?.length ? d.deny_reasons.join("; ") : <span class="muted">–</span>) },
    { label: "Policy", class: "mono", cell: (d) => d.policy?.revision },
    { label: "", class: "row-actions", cell: (d) => <DecisionWhyButton decision={d} /> },
  ];
  return (
    <div class="page">
      {linked && wanted.data && !wanted.data.decisions.length && (
        <p class="notice">
          No decision <span class="mono">{linked}</span> in project {project} (among its newest 5,000).
        </p>
      )}
      {linked && wanted.error && <ErrorBox error={wanted.error} retry={wanted.reload} />}
      <section class="card">
        <h2>Decisions</h2>
        {!project ? (
          <Empty>Choose a project (in the header) to see its deployment decisions.</Empty>
        ) : (
          <PagedTable
            pages={decisions}
            columns={decisionColumns}
            label="Loading decisions"
            empty="No decisions for this project yet."
            noun="decisions"
            moreLabel="Older decisions"
          />
        )}
      </section>
      <div class="grid2">
        <section class="card">
          <h2>Facts</h2>
          <Async state={facts} label="Loading facts" empty="No facts collected yet." isEmpty={(d) => !d || !Object.keys(d.facts || {}).length}>
            {(data) => (
              <>
                <p class="muted">
                  Snapshot collected {ago(data.collected_at)} {data.stale && <Badge kind="warn">stale</Badge>}
                </p>
                <Table columns={FACT_COLUMNS} rows={Object.entries(data.facts)} />
              </>
            )}
          </Async>
        </section>
        <section class="card">
          <h2>Policy</h2>
          <Async state={policy} label="Loading the policy">
            {(p) => (
              <>
                <dl class="facts">
                  <dt>Active revision</dt>
                  <dd class="mono">{p.revision || "none"}</dd>
                  <dt>Digest</dt>
                  <dd class="mono clip">{p.sha256 || "–"}</dd>
                  <dt>Entrypoint</dt>
                  <dd class="mono">{p.entrypoint || "–"}</dd>
                  <dt>Files</dt>
                  <dd class="mono">{Object.keys(p.files || {}).join(", ") || "–"}</dd>
                  <dt>Loaded</dt>
                  <dd>{ago(p.loaded_at)}</dd>
                </dl>
                {p.last_rejected && (
                  <div class="state error">
                    <strong>Rejected revision {p.last_rejected.revision}</strong> {p.last_rejected.reason} ({ago(p.last_rejected.rejected_at)})
                  </div>
                )}
                <h3>Revision history</h3>
                {decisions.rows.length ? (
                  <ol class="timeline">
                    {revisionsOf(decisions.rows).map((r) => (
                      <li>
                        <span class="mono">{r.revision}</span> <span class="muted">{r.sha256?.slice(0, 12)}</span> · {r.decisions} decision(s), {stamp(r.first)} – {stamp(r.last)}
                      </li>
                    ))}
                  </ol>
                ) : (
                  <Empty>Revisions appear here as this project's decisions use them.</Empty>
                )}
              </>
            )}
          </Async>
        </section>
      </div>
      {selected && (
        <Detail title={`Decision ${selected.decision_id}`} onClose={() => setSelected(null)}>
          <p>
            <Badge kind={selected.allow ? "ok" : "bad"}>{selected.outcome}</Badge> {selected.environment} · deployment{" "}
            <span class="mono">{selected.deployment_id}</span> · {stamp(selected.evaluated_at)}
            {selected.deny_reasons?.length ? ` · ${selected.deny_reasons.join("; ")}` : ""}
          </p>
          <Json value={selected} />
        </Detail>
      )}
    </div>
  );
}
