// Engine-level alerts (key_expiring, engine_anomaly): about an engine, of no project. The API lists them
// without project_id, and only to engines granted every project ("*"); others see a note instead.
import { useEffect } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Empty, ErrorBox, useAsync } from "./async.jsx";
import { useConfirm } from "./dialogs.jsx";
import { Badge } from "./display.jsx";
import { ago, stamp } from "../format.js";
import { links } from "../links.js";

const REFRESH_MS = 15000;
const KINDS = { key_expiring: "Key expiring", engine_anomaly: "Engine anomaly" };

export function EngineAlerts() {
  const { api, can } = useCtx();
  const state = useAsync(
    () =>
      api
        .get("/monitoring/alerts", { status: "unresolved", limit: 20 })
        .then((page) => page.alerts || page.items || [])
        .catch((error) => (error.status === 403 ? { forbidden: true } : Promise.reject(error))),
    [api],
  );
  useEffect(() => {
    const timer = setInterval(() => !document.hidden && state.reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [state.reload]);
  const [ask, confirmation] = useConfirm();
  const act = (alert, action) =>
    ask({
      title: `${action === "resolve" ? "Resolve" : "Acknowledge"} the ${alert.event_type} alert of engine ${alert.engine_id}?`,
      confirmLabel: action === "resolve" ? "Resolve" : "Acknowledge",
      body: (
        <p>
          {alert.message}
          {action === "resolve" && alert.event_type === "key_expiring" && (
            <span class="muted"> Resolving without rotating the key raises it again on the next pass: acknowledge it instead.</span>
          )}
        </p>
      ),
      run: async () => {
        await api.post(`/monitoring/alerts/${encodeURIComponent(alert.alert_id)}/${action}`, {});
        state.reload();
      },
    });
  const data = state.data;
  return (
    <section class="card" aria-labelledby="engine-alerts-title">
      <h2 id="engine-alerts-title">Engine alerts</h2>
      {state.error && <ErrorBox error={state.error} retry={state.reload} />}
      {data === undefined ? (
        state.loading && <Empty>Loading engine alerts…</Empty>
      ) : data.forbidden ? (
        <Empty>Engine alerts (expiring keys, misbehaving engines) are shown to engines granted all projects.</Empty>
      ) : data.length ? (
        <ul class="list" aria-label="Unresolved engine alerts">
          {data.map((a) => (
            <li data-alert={a.alert_id}>
              <Badge kind={a.severity}>{a.severity}</Badge> <strong>{KINDS[a.event_type] || a.event_type}</strong> ·{" "}
              <a class="mono" href={links.engine(a.engine_id)}>
                {a.engine_id}
              </a>{" "}
              {a.status === "acknowledged" && <Badge kind="info">acknowledged</Badge>}
              <div>{a.message}</div>
              <span class="muted" title={stamp(a.created_at)}>
                {ago(a.created_at)}
              </span>
              {can("alerts:manage") && (
                <span class="row-actions">
                  {a.status === "open" && (
                    <button type="button" class="secondary" onClick={() => act(a, "acknowledge")} aria-label={`Acknowledge ${a.event_type} of ${a.engine_id}`}>
                      Acknowledge
                    </button>
                  )}
                  <button type="button" class="secondary" onClick={() => act(a, "resolve")} aria-label={`Resolve ${a.event_type} of ${a.engine_id}`}>
                    Resolve
                  </button>
                </span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No unresolved engine alerts.</Empty>
      )}
      {confirmation}
    </section>
  );
}
