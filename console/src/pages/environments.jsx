import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Empty, ErrorBox, Loading, useAsync } from "../components/async.jsx";
import { Confirm, useConfirm } from "../components/dialogs.jsx";
import { Badge } from "../components/display.jsx";
import { ageColumn, Table } from "../components/tables.jsx";
import { ago, stamp } from "../format.js";
import { links } from "../links.js";

export function Environments() {
  const { api, project, can } = useCtx();
  const write = can("env:write");
  const state = useAsync(
    () =>
      api.get(`/env/${encodeURIComponent(project)}`).catch((error) => {
        if (error.code === "project_not_found") return { environments: [] };
        throw error;
      }),
    [api, project],
  );
  const [historyOf, setHistoryOf] = useState(null);
  const [pair, setPair] = useState({ source: "", target: "" });
  const [promoting, setPromoting] = useState(null);
  const [result, setResult] = useState(null);
  if (!project) return <p class="notice">Choose a project (in the header) to see its environments.</p>;
  const environmentColumns = [
    {
      label: "Environment",
      cell: (e) => (
        <>
          <strong>{e.env}</strong> {e.preview && <Badge kind="info">preview</Badge>}
          {e.expires_at && <div class="muted">expires {ago(e.expires_at)}</div>}
        </>
      ),
    },
    {
      label: "Active version",
      cell: (e) => (
        <>
          <span class="mono">{e.version || "–"}</span>
          {e.version && (
            <div>
              <a href={links.versionErrors(e.version, e.env)} aria-label={`Errors of ${e.version} in ${e.env}`}>
                errors
              </a>
            </div>
          )}
        </>
      ),
    },
    {
      label: "Revision",
      cell: (e) => (
        <>
          {e.revision} <span class="muted">(config {e.config_revision})</span>
        </>
      ),
    },
    {
      ...ageColumn("Last change", (e) => e.updated_at),
      cell: (e) => (
        <>
          {ago(e.updated_at)} by <span class="mono">{e.updated_by}</span>
        </>
      ),
    },
    {
      label: "History",
      cell: (e) => (
        <button type="button" class="secondary" onClick={() => setHistoryOf({ env: e.env, at: Date.now() })} aria-label={`History of ${e.env}`}>
          History
        </button>
      ),
    },
  ];
  const changed = () => {
    state.reload();
    setHistoryOf((h) => (h ? { ...h, at: Date.now() } : h));
  };
  return (
    <div class="page">
      {write && state.data && (
        <CreateEnvironment
          envs={state.data.environments}
          onCreated={(r) => {
            setResult(r);
            changed();
          }}
        />
      )}
      <Async state={state} label="Loading environments" empty="This project has no environments yet: publish a version into development (POST /env/versions, the SDK or `puraify env publish`), then create staging and production from it here." isEmpty={(d) => !d?.environments?.length}>
        {(data) => {
          const envs = data.environments;
          const source = pair.source || envs[0]?.env;
          const target = pair.target || envs[1]?.env || envs[0]?.env;
          const left = envs.find((e) => e.env === source);
          const right = envs.find((e) => e.env === target);
          // Nothing to promote when the target already runs the source's version.
          const sameVersion = left && right && left.version === right.version;
          return (
            <>
              <section class="card">
                <h2>
                  Environments <span class="muted">· latest version {data.latest_version}</span>
                </h2>
                <Table columns={environmentColumns} rows={envs} />
              </section>
              <section class="card">
                <div class="toolbar">
                  <h2>Compare</h2>
                  <label class="inline">
                    Source
                    <select name="compare_source" value={source} onChange={(e) => setPair({ source: e.target.value, target })}>
                      {envs.map((e) => (
                        <option value={e.env}>{e.env}</option>
                      ))}
                    </select>
                  </label>
                  <label class="inline">
                    Target
                    <select name="compare_target" value={target} onChange={(e) => setPair({ source, target: e.target.value })}>
                      {envs.map((e) => (
                        <option value={e.env}>{e.env}</option>
                      ))}
                    </select>
                  </label>
                  {write && source !== target && !sameVersion && left?.version && (
                    <button type="button" class="primary" onClick={() => setPromoting({ source, target })}>
                      Promote {source} → {target}
                    </button>
                  )}
                  {source !== target && sameVersion && (
                    <span class="muted">
                      Both run <span class="mono">{left.version || "no version"}</span>: nothing to promote.
                    </span>
                  )}
                </div>
                {source === target ? (
                  <Empty>Choose two different environments.</Empty>
                ) : (
                  // Keyed by both revisions: a promotion, rollback or configuration change compares again.
                  <Compare key={`${source}@${left?.revision}>${target}@${right?.revision}`} envs={envs} source={source} target={target} />
                )}
              </section>
              {result?.created && <CreatedResult result={result} onDone={() => setResult(null)} />}
              {result && !result.created && <PromotionResult result={result} onDone={() => setResult(null)} />}
              {historyOf && <History key={`${historyOf.env}:${historyOf.at}`} env={historyOf.env} write={write} onChanged={changed} />}
            </>
          );
        }}
      </Async>
      {promoting && (
        <Promote
          {...promoting}
          onClose={() => setPromoting(null)}
          onDone={(r) => {
            setResult(r);
            changed();
          }}
        />
      )}
    </div>
  );
}

const STANDARD = ["development", "staging", "production"];

/** What the first day needs next: development -> staging -> production, each from the one before. */
export function nextStandard(envs) {
  const names = new Set(envs.map((e) => e.env));
  const next = STANDARD.find((name) => !names.has(name));
  if (!next) return { name: "", base: envs[0]?.env || "" };
  const before = STANDARD[STANDARD.indexOf(next) - 1];
  return { name: next, base: before && names.has(before) ? before : envs[0]?.env || "" };
}

/** POST /env/create: a new environment from a base (its version and configuration), or a preview that expires. */
function CreateEnvironment({ envs, onCreated }) {
  const { api, project } = useCtx();
  const suggested = nextStandard(envs);
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: suggested.name, base: suggested.base, preview: false, ttl: "72" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const preview = form.preview && !STANDARD.includes(form.name);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = { project_id: project, new_environment: form.name.trim() };
    if (form.base) body.base_from = form.base;
    if (form.preview) {
      body.preview = true;
      if (form.ttl) body.ttl_hours = Number(form.ttl);
    }
    try {
      const created = await api.post("/env/create", body);
      setOpen(false);
      onCreated({ created: true, ...created });
    } catch (e) {
      if (e.code === "promotion_denied") onCreated({ ok: false, error: e, target: body.new_environment });
      else setError(e);
    } finally {
      setBusy(false);
    }
  }
  if (!open) {
    return (
      <div class="toolbar">
        <button
          type="button"
          class="primary"
          onClick={() => {
            setForm({ name: suggested.name, base: suggested.base, preview: false, ttl: "72" });
            setOpen(true);
          }}
          aria-expanded="false"
        >
          Create an environment
        </button>
        {suggested.name && suggested.base && (
          <span class="muted">
            Next: {suggested.name} from {suggested.base}
          </span>
        )}
      </div>
    );
  }
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="create-env-title">
      <h2 id="create-env-title">Create an environment</h2>
      <p class="muted">
        It starts with the base's version, variables (secrets copied under its own names) and flags. Creating production from a base with a version asks the
        Planning gate first; after that, production changes by promotion.
      </p>
      <label>
        Name
        <input
          name="new_environment"
          required
          pattern="[a-z0-9][a-z0-9\-]{0,31}"
          title="lowercase letters, digits and -, at most 32"
          list="standard-environments"
          value={form.name}
          onInput={(e) => setForm({ ...form, name: e.target.value })}
        />
      </label>
      <datalist id="standard-environments">
        {STANDARD.filter((n) => !envs.some((e) => e.env === n)).map((n) => (
          <option value={n} />
        ))}
      </datalist>
      <label>
        From
        <select name="base_from" value={form.base} onChange={(e) => setForm({ ...form, base: e.target.value })}>
          <option value="">nothing (an empty environment)</option>
          {envs.map((e) => (
            <option value={e.env}>
              {e.env} ({e.version || "no version"})
            </option>
          ))}
        </select>
      </label>
      <label class="inline">
        <input type="checkbox" name="preview" checked={form.preview} onChange={(e) => setForm({ ...form, preview: e.target.checked })} /> A preview
        (expires; never development, staging or production)
      </label>
      {form.preview && (
        <label>
          Expires after (hours)
          <input type="number" name="ttl_hours" min="1" max="720" value={form.ttl} onInput={(e) => setForm({ ...form, ttl: e.target.value })} />
        </label>
      )}
      {form.preview && !preview && <p class="bad-text">A standard environment cannot be a preview: choose another name.</p>}
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || (form.preview && !preview)}>
          {busy ? "Creating…" : form.preview ? "Create preview" : "Create"}
        </button>
        <button type="button" class="secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CreatedResult({ result, onDone }) {
  return (
    <section class="card result allowed" role="status">
      <h2>
        {result.env} created {result.preview && <Badge kind="info">preview</Badge>}
      </h2>
      <p>
        It runs <span class="mono">{result.linked_version || "no version"}</span>
        {result.expires_at ? ` and expires ${ago(result.expires_at)} (${stamp(result.expires_at)})` : ""}.
      </p>
      <button type="button" class="secondary" onClick={onDone}>
        Dismiss
      </button>
    </section>
  );
}

function useCompare(source, target) {
  const { api, project } = useCtx();
  return useAsync(() => api.get("/env/compare", { project_id: project, source, target }), [api, project, source, target]);
}

/** Secrets in both environments whose values the API did not compare (the caller lacks env:secrets). */
function uncompared(diff) {
  return new Set(diff.secrets && !diff.secrets.values_compared ? diff.secrets.in_both : []);
}

function DiffSummary({ diff }) {
  const v = diff.version;
  const vars = diff.variables;
  const unknown = uncompared(diff);
  const nothing = !vars.added.length && !vars.removed.length && !vars.changed.length && !diff.feature_flags.length && v.source === v.target;
  return (
    <div class="diff">
      <p>
        {diff.target} runs <span class="mono">{v.target || "no version"}</span>, {diff.source} runs{" "}
        <span class="mono">{v.source || "no version"}</span>
        {v.versions_apart ? ` (${v.versions_apart} apart)` : ""}
        {v.entities_added?.length ? ` · entities added: ${v.entities_added.join(", ")}` : ""}
        {v.entities_removed?.length ? ` · removed: ${v.entities_removed.join(", ")}` : ""}
        {v.logic_changed ? ` · ${v.logic_changed} flow(s) changed` : ""}
      </p>
      {nothing && !unknown.size && <p class="muted">The two environments are the same.</p>}
      {unknown.size > 0 && <p class="muted">Secret values are compared only with the env:secrets scope: {[...unknown].join(", ")} not compared.</p>}
    </div>
  );
}

/** Side by side: every variable and flag of both environments, secrets as the API masks them. */
function Compare({ envs, source, target }) {
  const state = useCompare(source, target);
  const left = envs.find((e) => e.env === source);
  const right = envs.find((e) => e.env === target);
  return (
    <Async state={state} label="Comparing">
      {(diff) => {
        const mark = {};
        for (const kind of ["added", "removed", "changed"]) for (const entry of diff.variables[kind]) mark[entry.name] = kind;
        const names = [...new Set([...Object.keys(left.variables), ...Object.keys(right.variables)])].sort();
        const flagNames = [...new Set([...Object.keys(left.feature_flags), ...Object.keys(right.feature_flags)])].sort();
        const flagDiff = new Set(diff.feature_flags.map((f) => f.name));
        const unknown = uncompared(diff);
        return (
          <>
            <DiffSummary diff={diff} />
            <div class="scroll">
              <table class="sidebyside">
                <thead>
                  <tr>
                    <th scope="col">Variable</th>
                    <th scope="col">{source}</th>
                    <th scope="col">{target}</th>
                  </tr>
                </thead>
                <tbody>
                  {names.map((name) => {
                    const a = left.variables[name];
                    const b = right.variables[name];
                    return (
                      <tr class={mark[name] ? `diff-${mark[name]}` : ""}>
                        <th scope="row" class="mono">
                          {name} {(a?.secret || b?.secret) && <Badge kind="info">secret</Badge>}{" "}
                          {unknown.has(name) && <Badge kind="warn">not compared</Badge>}
                        </th>
                        <td class="mono">{a ? a.value : <span class="muted">absent</span>}</td>
                        <td class="mono">{b ? b.value : <span class="muted">absent</span>}</td>
                      </tr>
                    );
                  })}
                  {flagNames.map((name) => (
                    <tr class={flagDiff.has(name) ? "diff-changed" : ""}>
                      <th scope="row" class="mono">
                        flag {name}
                      </th>
                      <td>{name in left.feature_flags ? String(left.feature_flags[name]) : <span class="muted">absent</span>}</td>
                      <td>{name in right.feature_flags ? String(right.feature_flags[name]) : <span class="muted">absent</span>}</td>
                    </tr>
                  ))}
                  {!names.length && !flagNames.length && (
                    <tr>
                      <td colSpan={3} class="muted">
                        Neither environment has variables or flags.
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
          </>
        );
      }}
    </Async>
  );
}

function Promote({ source, target, onClose, onDone }) {
  const { api, project } = useCtx();
  const diff = useCompare(source, target);
  return (
    <Confirm
      title={`Promote ${source} to ${target}?`}
      confirmLabel={`Promote to ${target}`}
      danger={target === "production"}
      onClose={onClose}
      onConfirm={async () => {
        try {
          onDone({ ok: true, ...(await api.post("/env/promote", { project_id: project, source_env: source, target_env: target })) });
        } catch (error) {
          if (error.code !== "promotion_denied") throw error;
          onDone({ ok: false, error, target });
        }
      }}
    >
      <p>
        {target} will run the version {source} runs. {target === "production" ? "The Planning gate decides first." : ""}
      </p>
      {diff.data === undefined && diff.loading ? <Loading label="Loading the diff" /> : diff.error ? <ErrorBox error={diff.error} /> : <DiffSummary diff={diff.data} />}
    </Confirm>
  );
}

function PromotionResult({ result, onDone }) {
  if (!result.ok) {
    const reasons = result.error.details.map((d) => d.reason || d.message).filter(Boolean);
    const decision = result.error.details.find((d) => d.decision_id)?.decision_id;
    return (
      <section class="card result denied" role="alert">
        <h2>The gate denied the promotion to {result.target}</h2>
        <ul>
          {reasons.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
        {decision && (
          <p class="muted">
            Decision <a href={links.decision(decision)}>{decision}</a>
          </p>
        )}
        <button type="button" class="secondary" onClick={onDone}>
          Dismiss
        </button>
      </section>
    );
  }
  const d = result.diff_from_previous;
  return (
    <section class="card result allowed" role="status">
      <h2>
        {result.environment} now runs {result.version} <Badge kind="ok">{result.status}</Badge>
      </h2>
      <p>
        Previous version: <span class="mono">{result.previous_version || "none"}</span>. Diff: {d.entities_added.length} entities added
        {d.entities_added.length ? ` (${d.entities_added.join(", ")})` : ""}, {d.entities_removed.length} removed, {d.logic_changed} flows changed
        {d.env_updated?.length ? `, variables updated: ${d.env_updated.join(", ")}` : ""}.
      </p>
      {result.gate && (
        <p>
          Gate: allowed (decision <a href={links.decision(result.gate.decision_id)} class="mono">{result.gate.decision_id}</a>)
          {result.gate.reasons?.length ? ` · ${result.gate.reasons.join("; ")}` : ""}
        </p>
      )}
      <button type="button" class="secondary" onClick={onDone}>
        Dismiss
      </button>
    </section>
  );
}

function History({ env, write, onChanged }) {
  const { api, project, can } = useCtx();
  const state = useAsync(() => api.get(`/env/${encodeURIComponent(project)}/${encodeURIComponent(env)}/history`, { limit: 50 }), [api, project, env]);
  const [ask, confirmation] = useConfirm();
  const rollBack = (h, current) =>
    ask({
      title: `Roll ${env} back to ${h.version}?`,
      confirmLabel: "Roll back",
      danger: true,
      body: <RollbackNote env={env} current={current} version={h.version} revision={h.revision} />,
      run: async () => {
        await api.post("/env/rollback", { project_id: project, environment: env, version: h.version });
        onChanged();
      },
    });
  return (
    <section class="card">
      <h2>History of {env}</h2>
      <Async state={state} label="Loading history" empty="No history yet." isEmpty={(d) => !d?.entries?.length}>
        {(data) => {
          const current = data.entries[0]?.version;
          // The API names the versions a rollback may go to (ran before the current one, not left by a
          // rollback); the button is on the newest entry of each.
          const qualifying = new Set(data.rollback_versions || []);
          const offered = new Set();
          const offer = (h) => {
            if (!write || !qualifying.has(h.version) || offered.has(h.version)) return false;
            offered.add(h.version);
            return true;
          };
          return (
            <>
              <ol class="timeline">
                {data.entries.map((h) => (
                  <li>
                    <span title={stamp(h.timestamp)}>{stamp(h.timestamp)}</span> <Badge kind="info">{h.action}</Badge> revision {h.revision} ·{" "}
                    <span class="mono">{h.version || "–"}</span>
                    {h.previous_version && h.previous_version !== h.version && <span class="muted"> (was {h.previous_version})</span>}
                    {h.source_env && <span class="muted"> from {h.source_env}</span>} <span class="muted">by {h.created_by}</span>
                    {h.changes?.env_vars_changed?.length > 0 && <div class="muted">variables: {h.changes.env_vars_changed.join(", ")}</div>}
                    <div class="links">
                      {h.version && <a href={links.versionErrors(h.version, env)}>errors of {h.version}</a>}
                      {h.gate_decision_id && (
                        <>
                          {" · "}
                          <a href={links.decision(h.gate_decision_id)}>gate decision</a>
                        </>
                      )}
                    </div>
                    {offer(h) && (
                      <button type="button" class="secondary small" onClick={() => rollBack(h, current)}>
                        Roll back to {h.version}
                      </button>
                    )}
                  </li>
                ))}
              </ol>
              {write && (
                <p class="muted">
                  {qualifying.size
                    ? `A rollback goes to a version ${env} ran before ${current || "its current one"} that no rollback left: ${[...qualifying].join(", ")}.`
                    : `No version qualifies as a rollback of ${env}: it ran none before ${current || "its current one"} that no rollback left.`}
                </p>
              )}
              {can("admin") && (
                <ForceVersion env={env} current={current} versions={forcible(data.entries, current, qualifying)} onChanged={onChanged} />
              )}
            </>
          );
        }}
      </Async>
      {confirmation}
    </section>
  );
}

/** Versions of the history that are not a rollback (not current, not qualifying): only an admin's force takes them. */
function forcible(entries, current, qualifying) {
  return [...new Set(entries.map((h) => h.version).filter((v) => v && v !== current && !qualifying.has(v)))];
}

/** What the gate judges when a rollback is asked (docs/environments.md, "Rollbacks only go back"). */
function RollbackNote({ env, current, version, revision }) {
  return (
    <>
      <p>
        The pointer and the configuration of {env} go back to what they were at {version} (revision {revision}).
      </p>
      <p>
        The gate judges it as a decision of phase <span class="mono">rollback</span>: {env} from {current || "no version"} back to {version}, a version it
        ran before that no rollback left. The shipped policy allows such a rollback during a change freeze and with alerts open, since that is how{" "}
        {env} gets back to safety; the decision is recorded in the history.
      </p>
    </>
  );
}

/** An admin's forced move to a version that is not a rollback: with a reason, audited and alerted. */
function ForceVersion({ env, current, versions, onChanged }) {
  const { api, project } = useCtx();
  const [version, setVersion] = useState("");
  const [reason, setReason] = useState("");
  const [asked, setAsked] = useState(false);
  if (!versions.length) return null;
  const chosen = version || versions[0];
  return (
    <form
      class="schedule-form"
      aria-label="Force a version that is not a rollback"
      onSubmit={(e) => {
        e.preventDefault();
        setAsked(true);
      }}
    >
      <h3>Force a version (admin)</h3>
      <p class="muted">Not a rollback: the gate judges a forced move like a promotion (a change freeze, open alerts, maintenance or the version's error rate deny it).</p>
      <div class="fields">
        <label>
          Version
          <select name="force_version" value={chosen} onChange={(e) => setVersion(e.target.value)}>
            {versions.map((v) => (
              <option value={v}>{v}</option>
            ))}
          </select>
        </label>
        <label>
          Reason
          <input name="force_reason" value={reason} onInput={(e) => setReason(e.target.value)} required maxLength={500} placeholder="why this is needed" />
        </label>
      </div>
      <div class="actions">
        <button type="submit" class="danger" disabled={!reason.trim()}>
          Force {env} to {chosen}…
        </button>
      </div>
      {asked && (
        <Confirm
          title={`Force ${env} to ${chosen}?`}
          confirmLabel="Force"
          danger
          onClose={() => setAsked(false)}
          onConfirm={async () => {
            await api.post("/env/rollback", { project_id: project, environment: env, version: chosen, force: true, reason: reason.trim() });
            onChanged();
          }}
        >
          <p>
            {chosen} is not a rollback of {env} (at {current || "no version"}): it did not run before it, or a rollback left it as bad.
          </p>
          <p>
            The gate judges it as a decision of phase <span class="mono">rollback</span>, forced, like a promotion. The force is audited with your reason
            and raises a high alert.
          </p>
        </Confirm>
      )}
    </form>
  );
}
