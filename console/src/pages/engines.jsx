import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Badge, Confirm, ErrorBox, KeyReveal, useAsync } from "../components.jsx";
import { ago, describePermissions, listOf, parsePermissions, stamp } from "../format.js";

export function Engines() {
  const { api, can } = useCtx();
  const admin = can("admin");
  const state = useAsync(() => api.get("/engines").then((r) => r.engines || r.items || []), [api]);
  const [revealed, setRevealed] = useState(null);
  const [dialog, setDialog] = useState(null);
  const [showRegister, setShowRegister] = useState(false);

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
          {(engines) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Engine</th>
                    <th scope="col">Status</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Permissions</th>
                    <th scope="col">Projects</th>
                    <th scope="col">Last seen</th>
                    {admin && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {engines.map((e) => {
                    const lastSeen = e.last_seen ?? e.last_seen_at ?? e.last_used_at ?? null;
                    return (
                      <tr>
                        <td>
                          <strong class="mono">{e.engine_id}</strong>
                          {e.description && <div class="muted">{e.description}</div>}
                        </td>
                        <td>
                          <Badge kind={e.status === "active" ? "ok" : "bad"}>{e.status}</Badge>
                          {e.previous_key_valid_until && Date.parse(e.previous_key_valid_until) > Date.now() && (
                            <div class="muted">old key valid until {stamp(e.previous_key_valid_until)}</div>
                          )}
                        </td>
                        <td>{(e.scopes || []).join(", ") || "–"}</td>
                        <td class="clip-wide">{describePermissions(e.permissions)}</td>
                        <td>{e.projects ? e.projects.join(", ") : "–"}</td>
                        <td title={stamp(lastSeen)}>{ago(lastSeen)}</td>
                        {admin && (
                          <td class="row-actions">
                            {e.status === "active" && (
                              <>
                                <button type="button" class="secondary" onClick={() => setDialog({ kind: "rotate", engine: e })}>
                                  Rotate key
                                </button>
                                <button type="button" class="danger" onClick={() => setDialog({ kind: "revoke", engine: e })}>
                                  Revoke
                                </button>
                              </>
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
      {dialog?.kind === "revoke" && (
        <Confirm
          title={`Revoke engine ${dialog.engine.engine_id}?`}
          confirmLabel={`Revoke ${dialog.engine.engine_id}`}
          danger
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.del(`/engines/${encodeURIComponent(dialog.engine.engine_id)}`);
            state.reload();
          }}
        >
          <p>
            Engine <strong class="mono">{dialog.engine.engine_id}</strong> loses access: its key stops working within the cache
            period (30 s by default). A revoked id is never reused.
          </p>
        </Confirm>
      )}
    </div>
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

function Register({ onRegistered }) {
  const { api } = useCtx();
  const [form, setForm] = useState({ engine_id: "", description: "", scopes: "", permissions: "", projects: "" });
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
    };
    if (form.projects.trim()) body.projects = listOf(form.projects);
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
        <input {...field("engine_id")} required pattern="[a-z0-9_-]{1,64}" placeholder="action" />
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
      <label>
        Projects <span class="muted">(comma separated; * for all; empty for the server's default)</span>
        <input {...field("projects")} />
      </label>
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Registering…" : "Register"}
        </button>
      </div>
    </form>
  );
}
