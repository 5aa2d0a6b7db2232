import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { useAsync } from "./async.jsx";

const STANDARD = ["development", "staging", "production"];

/** The environment a new one should start from: the one before it in development -> staging -> production. */
export function baseFor(name, envs) {
  const names = envs.map((e) => e.env);
  const before = STANDARD[STANDARD.indexOf(name) - 1];
  if (before && names.includes(before)) return before;
  return names.includes("development") ? "development" : names[0] || "";
}

/**
 * A 404 `env_not_found`: the server's hint (its details[0] says how to create the environment) and a
 * Create action that sends that creation (`POST /env/create` with the hint's body), from a base the
 * operator chooses. `onCreated` runs after it was made (the caller's retry).
 */
export function EnvNotFound({ error, onCreated }) {
  const { api, can } = useCtx();
  const hint = error.details?.[0] || {};
  const create = hint.create;
  const envs = useAsync(() => api.get(`/env/${encodeURIComponent(create.project_id)}`).catch(() => ({ environments: [] })), [api, create.project_id]);
  const known = (envs.data?.environments || []).filter((e) => e.env !== create.new_environment);
  const [base, setBase] = useState(null);
  const [state, setState] = useState({ busy: false, error: null, created: null });
  const chosen = base ?? baseFor(create.new_environment, known);
  const allowed = can("env:write") && (create.new_environment !== "production" || can("env:production"));
  async function submit(event) {
    event.preventDefault();
    setState({ busy: true, error: null, created: null });
    try {
      const created = await api.post("/env/create", { ...create, ...(chosen ? { base_from: chosen } : {}) });
      setState({ busy: false, error: null, created });
      onCreated?.(created);
    } catch (e) {
      setState({ busy: false, error: e, created: null });
    }
  }
  if (state.created) {
    return (
      <div class="state result allowed" role="status">
        <strong>{state.created.env} created</strong> <span>It runs {state.created.linked_version || "no version"}.</span>
      </div>
    );
  }
  return (
    <div class="state error" role="alert">
      <strong>
        Environment <span class="mono">{create.new_environment}</span> of <span class="mono">{create.project_id}</span> does not exist
      </strong>
      <span>{hint.message || error.message}</span>
      {allowed && (
        <form class="inline-form" onSubmit={submit}>
          <label class="inline">
            From
            <select name="create_base_from" value={chosen} onChange={(e) => setBase(e.target.value)}>
              <option value="">nothing (an empty environment)</option>
              {known.map((e) => (
                <option value={e.env}>
                  {e.env} ({e.version || "no version"})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary" disabled={state.busy}>
            {state.busy ? "Creating…" : `Create ${create.new_environment}`}
          </button>
        </form>
      )}
      {state.error && (
        <span class="bad-text">
          {state.error.message}
          {state.error.details?.length ? ` (${state.error.details.map((d) => d.reason || d.message).filter(Boolean).join("; ")})` : ""}
        </span>
      )}
    </div>
  );
}
