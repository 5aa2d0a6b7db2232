import { useCtx } from "../app.jsx";
import { Async, Empty, useAsync } from "../components/async.jsx";
import { useConfirm } from "../components/dialogs.jsx";
import { Badge } from "../components/display.jsx";
import { SimulatedFlips } from "../components/simulated.jsx";
import { Table } from "../components/tables.jsx";
import { ago, stamp } from "../format.js";
import { FlagSchedules } from "./flag_schedule.jsx";
import { MaintenanceWindows } from "./maintenance.jsx";

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
  const [ask, confirmation] = useConfirm();
  const setStatus = (platform, status) =>
    ask({
      title: `Set ${platform.name} to ${status}?`,
      confirmLabel: `Set ${status}`,
      danger: status !== "available",
      body: (
        <>
          <p>
            {status === "available"
              ? "Checks for this platform are decided by permissions and flags again."
              : `Every check for ${platform.name} is denied while it is ${status}.`}{" "}
            Every function instance sees the change within the cache period (30 s by default).
          </p>
          <SimulatedFlips change={{ platforms: { [platform.name]: { status } } }} delay={0} />
        </>
      ),
      run: async () => {
        await api.patch(`/platforms/${encodeURIComponent(platform.name)}`, { status }); // the rest of the platform is kept
        state.reload();
      },
    });
  const toggle = (f) =>
    ask({
      title: `${f.enabled ? "Disable" : "Enable"} flag ${f.name}?`,
      confirmLabel: f.enabled ? "Disable" : "Enable",
      danger: f.enabled,
      body: (
        <>
          <p>
            {f.enabled && f.platform
              ? `While disabled, checks of ${f.platform}${f.action_type ? ` / ${f.action_type}` : ""} are denied.`
              : "The flag's new state is seen by every function instance within the cache period."}
          </p>
          <SimulatedFlips change={{ flags: { [f.name]: { enabled: !f.enabled } } }} delay={0} />
        </>
      ),
      run: async () => {
        const body = { enabled: !f.enabled, description: f.description || "" };
        if (f.platform) body.platform = f.platform;
        if (f.action_type) body.action_type = f.action_type;
        await api.put(`/config/flags/${encodeURIComponent(f.name)}`, body);
        state.reload();
      },
    });
  const platformColumns = [
    { label: "Platform", class: "mono", cell: (p) => p.name },
    { label: "Status", cell: (p) => <Badge kind={STATUS_KIND[p.status]}>{p.status}</Badge> },
    { label: "API", cell: (p) => p.api_version },
    { label: "Actions", class: "clip-wide", cell: (p) => Object.keys(p.actions || {}).join(", ") || "–" },
    { label: "Last change", cell: (p) => <ChangedBy item={p} /> },
    {
      label: "Set status",
      show: admin,
      class: "row-actions",
      cell: (p) =>
        STATUSES.filter((s) => s !== p.status).map((s) => (
          <button type="button" class="secondary" onClick={() => setStatus(p, s)}>
            {s === "available" ? "Make available" : `Set ${s}`}
          </button>
        )),
    },
  ];
  const flagColumns = [
    {
      label: "Flag",
      cell: (f) => (
        <>
          <span class="mono">{f.name}</span>
          {f.description && <div class="muted">{f.description}</div>}
        </>
      ),
    },
    { label: "State", cell: (f) => <Badge kind={f.enabled ? "ok" : "bad"}>{f.enabled ? "enabled" : "disabled"}</Badge> },
    { label: "Targets", cell: (f) => (f.platform ? `${f.platform}${f.action_type ? ` / ${f.action_type}` : " (whole platform)"}` : "global") },
    { label: "Last change", cell: (f) => <ChangedBy item={f} /> },
    {
      label: "Change",
      show: admin,
      class: "row-actions",
      cell: (f) => (
        <button type="button" class={f.enabled ? "danger" : "secondary"} onClick={() => toggle(f)}>
          {f.enabled ? "Disable" : "Enable"}
        </button>
      ),
    },
  ];

  return (
    <div class="page">
      <Async state={state} label="Loading platforms and flags">
        {({ platforms, flags }) => (
          <>
            <section class="card">
              <h2>Platforms</h2>
              <Table columns={platformColumns} rows={platforms} class="pin-first" />
            </section>
            <MaintenanceWindows platforms={platforms} admin={admin} onChanged={state.reload} />
            <section class="card">
              <h2>Feature flags</h2>
              {flags.length ? <Table columns={flagColumns} rows={flags} class="pin-first" /> : <Empty>No feature flags.</Empty>}
            </section>
            <FlagSchedules flags={flags} admin={admin} onChanged={state.reload} />
          </>
        )}
      </Async>
      {confirmation}
    </div>
  );
}
