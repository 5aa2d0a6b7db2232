import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, ErrorBox, useAsync } from "../components/async.jsx";
import { Confirm, useConfirm } from "../components/dialogs.jsx";
import { Badge, KeyReveal } from "../components/display.jsx";
import { ageColumn, Table } from "../components/tables.jsx";
import { SimulatedFlips } from "../components/simulated.jsx";
import {
  ALL_PROJECTS,
  describePermissions,
  describeProjects,
  listOf,
  parsePermissions,
  permissionLines,
  projectChoice,
  projectGrants,
  stamp,
} from "../format.js";

export function Engines() {
  const { api, can } = useCtx();
  const admin = can("admin");
  const state = useAsync(() => api.get("/engines").then((r) => r.engines || r.items || []), [api]);
  const [revealed, setRevealed] = useState(null);
  const [dialog, setDialog] = useState(null);
  const [showRegister, setShowRegister] = useState(false);
  const [ask, confirmation] = useConfirm();
  const revoke = (engine) =>
    ask({
      title: `Revoke engine ${engine.engine_id}?`,
      confirmLabel: `Revoke ${engine.engine_id}`,
      danger: true,
      body: (
        <p>
          Engine <strong class="mono">{engine.engine_id}</strong> loses access: its key stops working within the cache period (30 s by default). A
          revoked id is never reused.
        </p>
      ),
      run: async () => {
        await api.del(`/engines/${encodeURIComponent(engine.engine_id)}`);
        state.reload();
      },
    });
  const reinstate = (engine) =>
    ask({
      title: `Reinstate engine ${engine.engine_id}?`,
      confirmLabel: `Reinstate ${engine.engine_id}`,
      body: (
        <p>
          Engine <strong class="mono">{engine.engine_id}</strong> may call again with its keys: at once on the function instance that answers this, within the
          cache period (30 s by default) on the others.
        </p>
      ),
      run: async () => {
        await api.post(`/engines/${encodeURIComponent(engine.engine_id)}/reinstate`, {});
        state.reload();
      },
    });
  const columns = [
    {
      label: "Engine",
      cell: (e) => (
        <>
          <strong class="mono">{e.engine_id}</strong>
          {e.description && <div class="muted">{e.description}</div>}
        </>
      ),
    },
    {
      label: "Status",
      cell: (e) => (
        <>
          <Badge kind={e.status === "active" ? "ok" : "bad"}>{e.status}</Badge>
          {e.suspended && (
            <div class="suspended">
              <Badge kind="bad">suspended</Badge> <span>{e.suspended.reason}</span>
              <div class="muted">
                by {e.suspended.by}, {stamp(e.suspended.at)}
              </div>
            </div>
          )}
          {e.previous_key_valid_until && Date.parse(e.previous_key_valid_until) > Date.now() && (
            <div class="muted">old key valid until {stamp(e.previous_key_valid_until)}</div>
          )}
        </>
      ),
    },
    { label: "Scopes", cell: (e) => (e.scopes || []).join(", ") || "–" },
    { label: "Permissions", class: "clip-wide", cell: (e) => describePermissions(e.permissions) },
    { label: "Projects", cell: (e) => <Projects projects={e.projects} /> },
    { label: "Rate limit", cell: (e) => <RateLimit limit={e.rate_limit} /> },
    { label: "Key expires", cell: (e) => <KeyExpiry at={e.expires_at} /> },
    ageColumn("Last seen", (e) => e.last_seen_at), // its newest audited request; "never" before the first
    {
      label: "Actions",
      show: admin,
      class: "row-actions",
      cell: (e) =>
        e.status === "active" && (
          <>
            <button type="button" class="secondary" onClick={() => setDialog({ kind: "access", engine: e })} aria-label={`Edit access of ${e.engine_id}`}>
              Edit access
            </button>
            <button type="button" class="secondary" onClick={() => setDialog({ kind: "rotate", engine: e })}>
              Rotate key
            </button>
            {e.suspended ? (
              <button type="button" class="secondary" onClick={() => reinstate(e)} aria-label={`Reinstate ${e.engine_id}`}>
                Reinstate
              </button>
            ) : (
              <button type="button" class="danger" onClick={() => setDialog({ kind: "suspend", engine: e })} aria-label={`Suspend ${e.engine_id}`}>
                Suspend
              </button>
            )}
            <button type="button" class="danger" onClick={() => revoke(e)}>
              Revoke
            </button>
          </>
        ),
    },
  ];

  return (
    <div class="page">
      {admin && (
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setShowRegister(!showRegister)} aria-expanded={showRegister}>
            Register an engine
          </button>
        </div>
      )}
      {revealed && <KeyReveal {...revealed} onDone={() => setRevealed(null)} />}
      {admin && showRegister && (
        <Register
          onRegistered={(created) => {
            setShowRegister(false);
            setRevealed({ engineId: created.engine_id, engineKey: created.engine_key });
            state.reload();
          }}
        />
      )}
      <section class="card">
        <h2>Engines</h2>
        <Async state={state} label="Loading engines" empty="No engines registered yet.">
          {(engines) => <Table columns={columns} rows={engines} class="pin-first" />}
        </Async>
      </section>
      {dialog?.kind === "rotate" && (
        <Rotate
          engine={dialog.engine}
          onClose={() => setDialog(null)}
          onRotated={(r) => {
            setRevealed({
              engineId: r.engine_id,
              engineKey: r.engine_key,
              note: r.previous_key_valid_until
                ? `The previous key keeps working until ${stamp(r.previous_key_valid_until)}. This new key is shown once.`
                : "The previous key stopped working now. This new key is shown once.",
            });
            state.reload();
          }}
        />
      )}
      {dialog?.kind === "access" && <EditAccess engine={dialog.engine} onClose={() => setDialog(null)} onSaved={state.reload} />}
      {dialog?.kind === "suspend" && <Suspend engine={dialog.engine} onClose={() => setDialog(null)} onSuspended={state.reload} />}
      {confirmation}
    </div>
  );
}

function RateLimit({ limit }) {
  if (!limit) return <span class="muted" title="The stack's default (template parameters EngineRateLimitPerSecond and EngineRateLimitBurst)">stack default</span>;
  return (
    <span class="mono">
      {limit.per_second}/s, burst {limit.burst}
      {limit.events_per_second ? <div class="muted">{limit.events_per_second} events/s</div> : null}
    </span>
  );
}

function KeyExpiry({ at }) {
  if (!at) return <span class="muted">never</span>;
  const left = Date.parse(at) - Date.now();
  const kind = left <= 0 ? "bad" : left <= 7 * 86400 * 1000 ? "warn" : "";
  return (
    <span title={at}>
      {stamp(at)} {kind && <Badge kind={kind}>{left <= 0 ? "expired" : "within 7 days"}</Badge>}
    </span>
  );
}

/** POST /engines/{id}/suspend: every call of the engine answers 403 engine_suspended until it is reinstated. */
function Suspend({ engine, onClose, onSuspended }) {
  const { api } = useCtx();
  const [reason, setReason] = useState("");
  return (
    <Confirm
      title={`Suspend engine ${engine.engine_id}?`}
      confirmLabel={`Suspend ${engine.engine_id}`}
      danger
      onClose={onClose}
      onConfirm={async () => {
        await api.post(`/engines/${encodeURIComponent(engine.engine_id)}/suspend`, { reason: reason.trim() });
        onSuspended();
      }}
    >
      <p>
        Every call of <strong class="mono">{engine.engine_id}</strong> answers 403 <span class="mono">engine_suspended</span>: at once on the function instance that answers
        this, within the cache period (30 s by default) on the others. It keeps its identity, keys and history; Reinstate undoes it.
      </p>
      <label>
        Reason <span class="muted">(kept in the admin audit and shown here)</span>
        <input name="suspend_reason" required maxLength={512} value={reason} onInput={(e) => setReason(e.target.value)} />
      </label>
    </Confirm>
  );
}

function Projects({ projects }) {
  if (!projects?.length) return <span class="muted" title="No project-scoped call is allowed (logs, alerts, environments, plans)">none</span>;
  return projects.includes(ALL_PROJECTS) ? <Badge kind="info">all projects</Badge> : describeProjects(projects);
}

/**
 * The projects an engine may act in: none, the ids typed, or every project (`["*"]`).
 * `value` is `{ choice, ids }` (see `projectChoice`); the fields are named after `prefix`.
 */
function ProjectsField({ prefix, value, onChange }) {
  const option = (choice, label) => (
    <label class="inline">
      <input type="radio" name={`${prefix}_projects`} value={choice} checked={value.choice === choice} onChange={() => onChange({ ...value, choice })} />
      {label}
    </label>
  );
  return (
    <fieldset class="projects-field">
      <legend>
        Projects <span class="muted">(every project-scoped call checks these: logs, alerts, environments, plans)</span>
      </legend>
      {option("none", "None")}
      {option("some", "These projects")}
      {option("all", "All projects")}
      {value.choice === "some" && (
        <input
          name={`${prefix}_project_ids`}
          aria-label="Project ids"
          required
          placeholder="shop, pf-777 (comma separated)"
          value={value.ids}
          onInput={(e) => onChange({ ...value, ids: e.target.value })}
        />
      )}
    </fieldset>
  );
}

function Rotate({ engine, onClose, onRotated }) {
  const { api } = useCtx();
  const [grace, setGrace] = useState("300");
  return (
    <Confirm
      title={`Rotate the key of ${engine.engine_id}?`}
      confirmLabel="Rotate key"
      onClose={onClose}
      onConfirm={async () => {
        const body = grace === "" ? {} : { grace_seconds: Number(grace) };
        onRotated(await api.post(`/engines/${encodeURIComponent(engine.engine_id)}/rotate`, body));
      }}
    >
      <p>A new key is made and shown once. The current key keeps working for the grace period, so the engine can switch.</p>
      <label>
        Grace period (seconds)
        <input type="number" min="0" max="604800" value={grace} onInput={(e) => setGrace(e.target.value)} name="grace_seconds" />
      </label>
    </Confirm>
  );
}

/** simulate's change for the dialog's fields; null while they do not parse (the save would say why). */
function simulatedChange(engineId, permissions, scopes, projects) {
  try {
    return { engine: { engine_id: engineId, permissions: parsePermissions(permissions), scopes: listOf(scopes), projects: projectGrants(projects.choice, projects.ids) } };
  } catch {
    return null;
  }
}

/** PUT /engines/{id}/permissions: replaces the permissions, scopes and project grants together. */
function EditAccess({ engine, onClose, onSaved }) {
  const { api } = useCtx();
  const [scopes, setScopes] = useState((engine.scopes || []).join(", "));
  const [permissions, setPermissions] = useState(permissionLines(engine.permissions));
  const [projects, setProjects] = useState(projectChoice(engine.projects));
  return (
    <Confirm
      title={`Access of ${engine.engine_id}: scopes, permissions, projects`}
      confirmLabel="Save access"
      onClose={onClose}
      onConfirm={async () => {
        await api.put(`/engines/${encodeURIComponent(engine.engine_id)}/permissions`, {
          permissions: parsePermissions(permissions),
          scopes: listOf(scopes),
          projects: projectGrants(projects.choice, projects.ids),
        });
        onSaved();
      }}
    >
      <p>Replaces what the engine may do; every function instance sees it within the cache period (30 s by default).</p>
      <label>
        Scopes <span class="muted">(comma separated)</span>
        <input name="edit_scopes" value={scopes} onInput={(e) => setScopes(e.target.value)} />
      </label>
      <label>
        Permissions <span class="muted">(one platform a line: gmail: send_email, read_email)</span>
        <textarea name="edit_permissions" rows="3" value={permissions} onInput={(e) => setPermissions(e.target.value)} />
      </label>
      <ProjectsField prefix="edit" value={projects} onChange={setProjects} />
      <SimulatedFlips change={simulatedChange(engine.engine_id, permissions, scopes, projects)} />
    </Confirm>
  );
}

function Register({ onRegistered }) {
  const { api } = useCtx();
  const [form, setForm] = useState({ engine_id: "", description: "", scopes: "", permissions: "" });
  const [projects, setProjects] = useState({ choice: "none", ids: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const field = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      engine_id: form.engine_id.trim(),
      description: form.description.trim(),
      scopes: listOf(form.scopes),
      permissions: parsePermissions(form.permissions),
      projects: projectGrants(projects.choice, projects.ids),
    };
    try {
      onRegistered(await api.post("/engines/register", body));
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="register-title">
      <h2 id="register-title">Register an engine</h2>
      <label>
        Engine id
        <input {...field("engine_id")} required pattern="[a-z0-9_\-]{1,64}" title="1 to 64 of a-z, 0-9, _ and -" placeholder="action" />
      </label>
      <label>
        Description
        <input {...field("description")} placeholder="what this engine does" />
      </label>
      <label>
        Scopes <span class="muted">(comma separated: logs:write, logs:read, env:read…)</span>
        <input {...field("scopes")} />
      </label>
      <label>
        Permissions <span class="muted">(one platform a line: gmail: send_email, read_email)</span>
        <textarea {...field("permissions")} rows="3" />
      </label>
      <ProjectsField prefix="register" value={projects} onChange={setProjects} />
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Registering…" : "Register"}
        </button>
      </div>
    </form>
  );
}
