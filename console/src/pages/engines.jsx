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
          {e.previous_key_valid_until && Date.parse(e.previous_key_valid_until) > Date.now() && (
            <div class="muted">old key valid until {stamp(e.previous_key_valid_until)}</div>
          )}
        </>
      ),
    },
    { label: "Scopes", cell: (e) => (e.scopes || []).join(", ") || "–" },
    { label: "Permissions", class: "clip-wide", cell: (e) => describePermissions(e.permissions) },
    { label: "Projects", cell: (e) => <Projects projects={e.projects} /> },
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
      {confirmation}
    </div>
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
