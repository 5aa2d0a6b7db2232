import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Badge, Detail, Empty, ErrorBox, Json, useAsync } from "../components.jsx";
import { ago, seconds, stamp } from "../format.js";

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

export function Planning() {
  const { api, project } = useCtx();
  const policy = useAsync(() => api.get("/plan/policy"), [api]);
  const facts = useAsync(() => api.get("/plan/facts"), [api]);
  const decisions = useAsync(() => (project ? api.get("/plan/decisions", { project_id: project, limit: 100 }) : null), [api, project]);
  const [selected, setSelected] = useState(null);
  return (
    <div class="page">
      <section class="card">
        <h2>Decisions</h2>
        {!project ? (
          <Empty>Choose a project (in the header) to see its deployment decisions.</Empty>
        ) : (
          <Async state={decisions} label="Loading decisions" empty="No decisions for this project yet." isEmpty={(d) => !d?.decisions?.length}>
            {(data) => (
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">Deployment</th>
                      <th scope="col">Environment</th>
                      <th scope="col">Reasons</th>
                      <th scope="col">Policy</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.decisions.map((d) => (
                      <tr>
                        <td>
                          <button type="button" class="link" onClick={() => setSelected(d)}>
                            {stamp(d.evaluated_at)}
                          </button>
                        </td>
                        <td>
                          <Badge kind={d.allow ? "ok" : "bad"}>{d.outcome}</Badge> {d.fail_safe && <Badge kind="warn">fail-safe</Badge>}
                        </td>
                        <td class="mono">{d.deployment_id}</td>
                        <td>{d.environment}</td>
                        <td>{d.deny_reasons?.length ? d.deny_reasons.join("; ") : <span class="muted">–</span>}</td>
                        <td class="mono">{d.policy?.revision}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Async>
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
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Fact</th>
                      <th scope="col">Value</th>
                      <th scope="col">Age</th>
                      <th scope="col">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(data.facts).map(([id, f]) => (
                      <tr>
                        <td class="mono">{id}</td>
                        <td class="mono clip">{f.error ? <span class="bad-text">{f.error}</span> : JSON.stringify(f.value)}</td>
                        <td>
                          {seconds(f.age_seconds)} <span class="muted">/ max {seconds(f.max_age_seconds)}</span>
                        </td>
                        <td>
                          <Badge kind={f.stale ? "warn" : "ok"}>{f.stale ? "stale" : "fresh"}</Badge>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
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
                {decisions.data?.decisions?.length ? (
                  <ol class="timeline">
                    {revisionsOf(decisions.data.decisions).map((r) => (
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
      {decisions.error && !decisions.data && <ErrorBox error={decisions.error} />}
      {selected && (
        <Detail title={`Decision ${selected.decision_id}`} onClose={() => setSelected(null)}>
          <Json value={selected} />
        </Detail>
      )}
    </div>
  );
}
