import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Badge, Confirm, useAsync } from "../components.jsx";
import { ago, stamp } from "../format.js";

const STATUSES = ["available", "maintenance", "disabled"];
const STATUS_KIND = { available: "ok", maintenance: "warn", disabled: "bad" };

function ChangedBy({ item }) {
  if (!item.updated_at) return <span class="muted">–</span>;
  return (
    <span title={stamp(item.updated_at)}>
      {ago(item.updated_at)}
      {item.updated_by ? (
        <>
          {" "}
          by <span class="mono">{item.updated_by}</span>
        </>
      ) : null}
    </span>
  );
}

export function Platforms() {
  const { api, can } = useCtx();
  const admin = can("admin");
  const state = useAsync(async () => {
    const [platforms, config] = await Promise.all([api.get("/platforms/list"), api.get("/config/global")]);
    return { platforms: platforms.platforms, flags: Object.values(config.feature_flags || {}) };
  }, [api]);
  const [pending, setPending] = useState(null);

  return (
    <div class="page">
      <Async state={state} label="Loading platforms and flags">
        {({ platforms, flags }) => (
          <>
            <section class="card">
              <h2>Platforms</h2>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Platform</th>
                      <th scope="col">Status</th>
                      <th scope="col">API</th>
                      <th scope="col">Actions</th>
                      <th scope="col">Last change</th>
                      {admin && <th scope="col">Set status</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {platforms.map((p) => (
                      <tr>
                        <td class="mono">{p.name}</td>
                        <td>
                          <Badge kind={STATUS_KIND[p.status]}>{p.status}</Badge>
                        </td>
                        <td>{p.api_version}</td>
                        <td class="clip-wide">{Object.keys(p.actions || {}).join(", ") || "–"}</td>
                        <td>
                          <ChangedBy item={p} />
                        </td>
                        {admin && (
                          <td class="row-actions">
                            {STATUSES.filter((s) => s !== p.status).map((s) => (
                              <button type="button" class="secondary" onClick={() => setPending({ kind: "platform", item: p, status: s })}>
                                {s === "available" ? "Make available" : `Set ${s}`}
                              </button>
                            ))}
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
            <section class="card">
              <h2>Feature flags</h2>
              {flags.length ? (
                <div class="scroll">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Flag</th>
                        <th scope="col">State</th>
                        <th scope="col">Targets</th>
                        <th scope="col">Last change</th>
                        {admin && <th scope="col">Change</th>}
                      </tr>
                    </thead>
                    <tbody>
                      {flags.map((f) => (
                        <tr>
                          <td>
                            <span class="mono">{f.name}</span>
                            {f.description && <div class="muted">{f.description}</div>}
                          </td>
                          <td>
                            <Badge kind={f.enabled ? "ok" : "bad"}>{f.enabled ? "enabled" : "disabled"}</Badge>
                          </td>
                          <td>{f.platform ? `${f.platform}${f.action_type ? ` / ${f.action_type}` : " (whole platform)"}` : "global"}</td>
                          <td>
                            <ChangedBy item={f} />
                          </td>
                          {admin && (
                            <td class="row-actions">
                              <button type="button" class={f.enabled ? "danger" : "secondary"} onClick={() => setPending({ kind: "flag", item: f })}>
                                {f.enabled ? "Disable" : "Enable"}
                              </button>
                            </td>
                          )}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : (
                <p class="state empty">No feature flags.</p>
              )}
            </section>
          </>
        )}
      </Async>
      {pending?.kind === "platform" && (
        <Confirm
          title={`Set ${pending.item.name} to ${pending.status}?`}
          confirmLabel={`Set ${pending.status}`}
          danger={pending.status !== "available"}
          onClose={() => setPending(null)}
          onConfirm={async () => {
            const { status: _old, name, updated_at: _u, updated_by: _b, ...rest } = pending.item;
            await api.put(`/platforms/${encodeURIComponent(name)}`, { api_version: rest.api_version, actions: rest.actions, status: pending.status });
            state.reload();
          }}
        >
          <p>
            {pending.status === "available"
              ? "Checks for this platform are decided by permissions and flags again."
              : `Every check for ${pending.item.name} is denied while it is ${pending.status}.`}{" "}
            Every function instance sees the change within the cache period (30 s by default).
          </p>
        </Confirm>
      )}
      {pending?.kind === "flag" && (
        <Confirm
          title={`${pending.item.enabled ? "Disable" : "Enable"} flag ${pending.item.name}?`}
          confirmLabel={pending.item.enabled ? "Disable" : "Enable"}
          danger={pending.item.enabled}
          onClose={() => setPending(null)}
          onConfirm={async () => {
            const f = pending.item;
            const body = { enabled: !f.enabled, description: f.description || "" };
            if (f.platform) body.platform = f.platform;
            if (f.action_type) body.action_type = f.action_type;
            await api.put(`/config/flags/${encodeURIComponent(f.name)}`, body);
            state.reload();
          }}
        >
          <p>
            {pending.item.enabled && pending.item.platform
              ? `While disabled, checks of ${pending.item.platform}${pending.item.action_type ? ` / ${pending.item.action_type}` : ""} are denied.`
              : "The flag's new state is seen by every function instance within the cache period."}
          </p>
        </Confirm>
      )}
    </div>
  );
}
