import { useEffect, useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { count } from "../format.js";
import { ErrorBox, Loading } from "./async.jsx";
import { Table } from "./tables.jsx";

/**
 * What a change would have flipped among the audited checks of the last 24 hours (`POST /actions/simulate`,
 * admin only), shown before the change is confirmed: in the Edit access dialog, the platform and flag
 * switches' confirmations, and the forms that schedule a maintenance window or a flag change. `change` is
 * simulate's `change`; null: nothing yet. `since`/`until` (ISO) replay other hours than the last 24, which
 * `title` then names. `delay` (ms) waits for a pause in typing (each simulation is itself audited); a
 * switch's fixed change needs none.
 */
export function SimulatedFlips({ change, since, until, title, delay = 700 }) {
  const { api, can } = useCtx();
  const key = JSON.stringify([change, since, until]);
  const [state, setState] = useState({ loading: false, error: null, data: null });
  useEffect(() => {
    if (!change || !can("admin")) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    const timer = setTimeout(() => {
      api.post("/actions/simulate", since && until ? { change, since, until } : { change }).then(
        (data) => live && setState({ loading: false, error: null, data }),
        (error) => live && setState({ loading: false, error, data: null }),
      );
    }, delay); // each simulation is itself audited: one per pause in typing, not per key
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, key]);
  if (!change || !can("admin")) return null;
  const d = state.data;
  return (
    <section class="simulated" aria-label="Simulated flips" aria-busy={state.loading ? "true" : "false"}>
      <h3>{title || "What this would have changed (last 24 hours)"}</h3>
      {state.error && <ErrorBox error={state.error} />}
      {!d && state.loading && <Loading label="Simulating" />}
      {d && (
        <>
          <p role="status" aria-label="Simulation result">
            {count(d.replayed)} checks replayed: {count(d.allow_to_deny)} allowed → denied, {count(d.deny_to_allow)} denied → allowed, {count(d.unchanged)} unchanged
            {d.truncated ? " (the oldest were not replayed)" : ""}.
          </p>
          {d.by_action?.length > 0 && (
            <Table
              columns={[
                { label: "Action", cell: (a) => <span class="mono">{`${a.platform}.${a.action_type}`}</span> },
                { label: "Project", cell: (a) => a.project_id || "–" },
                { label: "Allowed → denied", cell: (a) => count(a.allow_to_deny) },
                { label: "Denied → allowed", cell: (a) => count(a.deny_to_allow) },
              ]}
              rows={d.by_action}
            />
          )}
        </>
      )}
    </section>
  );
}
