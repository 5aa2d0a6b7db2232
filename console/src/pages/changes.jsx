import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Empty, useAsync } from "../components/async.jsx";
import { useConfirm } from "../components/dialogs.jsx";
import { Badge } from "../components/display.jsx";
import { Table } from "../components/tables.jsx";
import { ago, stamp } from "../format.js";

// The control plane's changes that wait for a second person: promotions into environments with
// `approvals_required` (GET /env/{project}/changes, env:approve) and, with four-eyes on grants, grant
// changes (GET /engines/changes, admin). Pending ones can be approved or rejected (with a reason).

const STATUS_KIND = { pending: "warn", applying: "warn", applied: "ok", denied: "bad", rejected: "bad", expired: "muted", failed: "bad" };

function Status({ change }) {
  return <Badge kind={STATUS_KIND[change.status] || "muted"}>{change.status}</Badge>;
}

function When({ value }) {
  return <span title={stamp(value)}>{ago(value)}</span>;
}

function Outcome({ change }) {
  if (change.reasons?.length) return <span>{change.reasons.join("; ")}</span>;
  if (change.reason) return <span>{change.reason}</span>;
  const approvals = change.approvals?.map((a) => a.engine_id) || (change.approved_by ? [change.approved_by] : []);
  return approvals.length ? <span>approved by {approvals.join(", ")}</span> : <span class="muted">–</span>;
}

/** Approve (a confirmation saying what runs) and reject (asks for the reason) a pending change at `path`. */
function useDecisions(post, onDone) {
  const [ask, confirmation] = useConfirm();
  const approve = (change, path, what) =>
    ask({
      title: `Approve ${change.change_id}?`,
      confirmLabel: "Approve",
      body: <p>{what}</p>,
      run: async () => onDone(await post(`${path}/approve`)),
    });
  const reject = (change, path) => {
    let typed = "";
    ask({
      title: `Reject ${change.change_id}?`,
      confirmLabel: "Reject",
      danger: true,
      body: (
        <label>
          Reason (kept with the change and audited)
          <input name="reason" required maxLength={500} onInput={(e) => (typed = e.target.value)} />
        </label>
      ),
      run: async () => onDone(await post(`${path}/reject`, { reason: typed.trim() })),
    });
  };
  return { confirmation, approve, reject };
}

function PromotionChanges({ project }) {
  const { api } = useCtx();
  const state = useAsync(() => api.get(`/env/${encodeURIComponent(project)}/changes`, { limit: 100 }), [api, project]);
  const [last, setLast] = useState(null);
  const decisions = useDecisions(api.post, (change) => {
    setLast(change);
    state.reload();
  });
  const base = (c) => `/env/${encodeURIComponent(project)}/changes/${encodeURIComponent(c.change_id)}`;
  const columns = [
    { label: "Change", class: "mono", cell: (c) => c.change_id },
    { label: "Environment", cell: (c) => c.environment },
    { label: "Version", cell: (c) => `${c.previous_version || "–"} → ${c.version}` },
    { label: "Status", cell: (c) => <Status change={c} /> },
    { label: "Requested", cell: (c) => (<>{c.requested_by} · <When value={c.requested_at} /></>) },
    { label: "Approvals", cell: (c) => `${c.approvals.length}/${c.approvals_required}` },
    { label: "Outcome", class: "clip-wide", cell: (c) => <Outcome change={c} /> },
    {
      label: "Decide",
      class: "row-actions",
      cell: (c) =>
        c.status === "pending" && (
          <>
            <button
              type="button"
              class="primary"
              onClick={() =>
                decisions.approve(c, base(c), `${c.environment} moves from ${c.previous_version || "no version"} to ${c.version} once the approvals are counted${c.environment === "production" ? ", through the Planning gate, its bake and the deployment watch" : ""}.`)
              }
            >
              Approve
            </button>
            <button type="button" class="danger" onClick={() => decisions.reject(c, base(c))}>
              Reject
            </button>
          </>
        ),
    },
  ];
  return (
    <section class="card">
      <h2>Promotions waiting for approval</h2>
      {last && (
        <p class="notice" role="status">
          {last.change_id}: {last.status}
          {last.status === "applied" && last.result ? ` (${last.environment} runs ${last.result.version})` : ""}
          {last.reasons?.length ? `: ${last.reasons.join("; ")}` : ""}
        </p>
      )}
      <Async state={state} label="Loading change requests" isEmpty={(d) => !d?.changes?.length} empty="No promotions have needed approval in this project.">
        {(data) => <Table columns={columns} rows={data.changes} class="pin-first" />}
      </Async>
      {decisions.confirmation}
    </section>
  );
}

function GrantChanges() {
  const { api } = useCtx();
  const state = useAsync(() => api.get("/engines/changes", { limit: 100 }), [api]);
  const decisions = useDecisions(api.post, () => state.reload());
  const base = (c) => `/engines/changes/${encodeURIComponent(c.change_id)}`;
  const columns = [
    { label: "Change", class: "mono", cell: (c) => c.change_id },
    { label: "What", cell: (c) => `${c.kind} of ${c.target}` },
    { label: "Status", cell: (c) => <Status change={c} /> },
    { label: "Requested", cell: (c) => (<>{c.requested_by} · <When value={c.requested_at} /></>) },
    {
      label: "Simulated",
      cell: (c) =>
        c.simulation && "replayed" in c.simulation
          ? `${c.simulation.allow_to_deny} allowed→denied, ${c.simulation.deny_to_allow} denied→allowed of ${c.simulation.replayed}`
          : "–",
    },
    { label: "Outcome", class: "clip-wide", cell: (c) => <Outcome change={c} /> },
    {
      label: "Decide",
      class: "row-actions",
      cell: (c) =>
        c.status === "pending" && (
          <>
            <button type="button" class="primary" onClick={() => decisions.approve(c, base(c), `The ${c.kind} change of ${c.target} is applied as ${c.requested_by} asked it.`)}>
              Approve
            </button>
            <button type="button" class="danger" onClick={() => decisions.reject(c, base(c))}>
              Reject
            </button>
          </>
        ),
    },
  ];
  return (
    <section class="card">
      <h2>Grant changes waiting for a second admin</h2>
      <Async state={state} label="Loading grant changes" isEmpty={(d) => !d?.changes?.length} empty="No grant changes (four-eyes on grants is off, or none was asked).">
        {(data) => <Table columns={columns} rows={data.changes} class="pin-first" />}
      </Async>
      {decisions.confirmation}
    </section>
  );
}

export function Changes() {
  const { project, can } = useCtx();
  return (
    <div class="page">
      <p class="muted">Changes that wait for a second person: nobody approves their own, and each engine counts once.</p>
      {!project ? (
        <Empty>Choose a project (in the header) to see its promotions waiting for approval.</Empty>
      ) : can("env:approve") ? (
        <PromotionChanges project={project} />
      ) : (
        <Empty>Approving promotions needs the env:approve scope.</Empty>
      )}
      {can("admin") && <GrantChanges />}
    </div>
  );
}
