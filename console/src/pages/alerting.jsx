// Alert routing: a project's routes (edited here, secrets masked and never echoed), a tester that
// says which routes an alert would take, its silences, and an alert's deliveries (used by Monitoring).
import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, ErrorBox, useAsync } from "../components/async.jsx";
import { useConfirm } from "../components/dialogs.jsx";
import { Badge, Tabs } from "../components/display.jsx";
import { ageColumn, Table } from "../components/tables.jsx";
import { ago, stamp } from "../format.js";
import { CHANNEL_FIELDS, MATCH_FIELDS, SECRET_FIELDS, alertLabels, isMasked, parseValues, take } from "../routing.js";

const TABS = [
  ["routes", "Routes"],
  ["silences", "Silences"],
];

export function Alerting() {
  const { project } = useCtx();
  const [tab, setTab] = useState("routes");
  if (!project) return <p class="notice">Choose a project (in the header) to edit where its alerts go.</p>;
  return (
    <div class="page">
      <Tabs label="Alert routing views" tabs={TABS} tab={tab} onSelect={setTab}>
        {tab === "routes" && <Routes />}
        {tab === "silences" && <Silences />}
      </Tabs>
    </div>
  );
}

const text = (values) => (values === undefined || values === null ? "" : [].concat(values).join(", "));

/** A saved route as the editor holds it: match values as text, a stored secret only as its mask. */
function toDraft(route) {
  return {
    name: route.name || "",
    match: Object.fromEntries(MATCH_FIELDS.map((f) => [f, text(route.match?.[f])])),
    continue: !!route.continue,
    repeat_minutes: route.repeat_minutes ? String(route.repeat_minutes) : "",
    channels: (route.channels || []).map((c) => {
      const secret = SECRET_FIELDS[c.type];
      const values = Object.fromEntries(CHANNEL_FIELDS[c.type].map((f) => [f, f === secret ? "" : c[f] || ""]));
      return { type: c.type, values, masked: secret && isMasked(c[secret]) ? c[secret] : null };
    }),
  };
}

/** The editor's route as the API takes it: an empty secret field sends the mask back, which keeps it. */
function fromDraft(draft) {
  const match = {};
  for (const f of MATCH_FIELDS) {
    const values = parseValues(draft.match[f]);
    if (values) match[f] = values;
  }
  const channels = draft.channels.map((c) => {
    const channel = { type: c.type };
    for (const f of CHANNEL_FIELDS[c.type]) {
      const value = c.values[f].trim();
      if (value) channel[f] = value;
      else if (f === SECRET_FIELDS[c.type] && c.masked) channel[f] = c.masked;
    }
    return channel;
  });
  const route = { name: draft.name.trim(), match, continue: draft.continue, channels };
  if (draft.repeat_minutes.trim()) route.repeat_minutes = Number(draft.repeat_minutes);
  return route;
}

const newRoute = (n) => ({ ...toDraft({ name: `route ${n}` }), channels: [] });

function Routes() {
  const { api, project, can } = useCtx();
  const manage = can("alerts:manage");
  const path = `/monitoring/routes/${encodeURIComponent(project)}`;
  const [drafts, setDrafts] = useState(null);
  const [saving, setSaving] = useState({ busy: false, error: null, saved: false });
  const state = useAsync(async () => {
    const found = await api.get(path);
    setDrafts(found.routes.map(toDraft));
    return found;
  }, [api, path]);
  const edit = (i, change) => {
    setSaving((s) => ({ ...s, saved: false }));
    setDrafts((ds) => ds.map((d, j) => (j === i ? change(d) : d)));
  };
  async function save(event) {
    event.preventDefault();
    setSaving({ busy: true, error: null, saved: false });
    try {
      await api.put(path, { routes: drafts.map(fromDraft) });
      await state.reload();
      setSaving({ busy: false, error: null, saved: true });
    } catch (e) {
      setSaving({ busy: false, error: e, saved: false });
    }
  }
  return (
    <>
      <section class="card">
        <div class="toolbar">
          <h2>Routes of {project}</h2>
        </div>
        <p class="muted">
          An alert takes the first route that matches it, then the next matching ones while the route it took says “continue”. With no match, the
          stack's default channels apply. Secrets are stored in Secrets Manager and shown only masked; leave a secret empty to keep it.
        </p>
        <Async state={state} label="Loading routes" isEmpty={() => false}>
          {() =>
            drafts && (
              <form onSubmit={save} aria-label="Routes">
                {drafts.length === 0 && <p class="state empty">No routes: every alert goes to the default channels.</p>}
                {drafts.map((d, i) => (
                  <RouteEditor draft={d} index={i} readOnly={!manage} onChange={(change) => edit(i, change)} onRemove={() => setDrafts(drafts.filter((_, j) => j !== i))} />
                ))}
                <ErrorBox error={saving.error} />
                {saving.saved && (
                  <p class="notice" role="status">
                    Routes saved.
                  </p>
                )}
                {manage && (
                  <div class="actions">
                    <button type="button" class="secondary" onClick={() => setDrafts([...drafts, newRoute(drafts.length + 1)])}>
                      Add route
                    </button>
                    <button type="submit" class="primary" disabled={saving.busy}>
                      {saving.busy ? "Saving…" : "Save routes"}
                    </button>
                  </div>
                )}
              </form>
            )
          }
        </Async>
      </section>
      {state.data && <RouteTester routes={state.data.routes} />}
    </>
  );
}

function RouteEditor({ draft, index, readOnly, onChange, onRemove }) {
  const n = index + 1;
  const set = (key, value) => onChange((d) => ({ ...d, [key]: value }));
  const setChannel = (k, change) => onChange((d) => ({ ...d, channels: d.channels.map((c, j) => (j === k ? change(c) : c)) }));
  return (
    <fieldset class="route" disabled={readOnly}>
      <legend>Route {n}</legend>
      <div class="fields">
        <label>
          Name
          <input aria-label={`Route ${n} name`} required value={draft.name} onInput={(e) => set("name", e.target.value)} />
        </label>
        {MATCH_FIELDS.map((f) => (
          <label>
            {f}
            <input
              aria-label={`Route ${n} match ${f}`}
              placeholder="any (or a, b)"
              value={draft.match[f]}
              onInput={(e) => set("match", { ...draft.match, [f]: e.target.value })}
            />
          </label>
        ))}
        <label>
          Repeat every (minutes)
          <input aria-label={`Route ${n} repeat minutes`} type="number" min="1" max="10080" value={draft.repeat_minutes} onInput={(e) => set("repeat_minutes", e.target.value)} />
        </label>
        <label class="inline">
          <input type="checkbox" aria-label={`Route ${n} continue`} checked={draft.continue} onChange={(e) => set("continue", e.target.checked)} /> continue to the next
          matching route
        </label>
      </div>
      {draft.channels.map((c, k) => (
        <div class="channel" role="group" aria-label={`Route ${n} channel ${k + 1}`}>
          <strong>{c.type}</strong>
          {CHANNEL_FIELDS[c.type].map((f) => {
            const secret = f === SECRET_FIELDS[c.type];
            return (
              <label>
                {f}
                <input
                  aria-label={`Route ${n} channel ${k + 1} ${f}`}
                  type={secret ? "password" : "text"}
                  autocomplete="off"
                  placeholder={secret && c.masked ? `${c.masked} (kept)` : ""}
                  value={c.values[f]}
                  onInput={(e) => setChannel(k, (old) => ({ ...old, values: { ...old.values, [f]: e.target.value } }))}
                />
              </label>
            );
          })}
          {!readOnly && (
            <button type="button" class="secondary" onClick={() => onChange((d) => ({ ...d, channels: d.channels.filter((_, j) => j !== k) }))}>
              Remove channel {k + 1}
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <div class="actions">
          <label class="inline">
            Add channel
            <select
              aria-label={`Route ${n} add channel`}
              value=""
              onChange={(e) => {
                const type = e.target.value;
                if (!type) return;
                const values = Object.fromEntries(CHANNEL_FIELDS[type].map((f) => [f, ""]));
                onChange((d) => ({ ...d, channels: [...d.channels, { type, values, masked: null }] }));
              }}
            >
              <option value="">choose…</option>
              {Object.keys(CHANNEL_FIELDS).map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
          <button type="button" class="secondary" onClick={onRemove}>
            Remove route {n}
          </button>
        </div>
      )}
    </fieldset>
  );
}

const TESTER_FIELDS = [
  ["severity", "critical"],
  ["kind", "payment_failed"],
  ["platform", ""],
  ["engine", ""],
  ["environment", ""],
  ["error_type", ""],
];

/** Which saved routes an alert with these values would take (the server's rule, in the browser). */
function RouteTester({ routes }) {
  const [alert, setAlert] = useState(Object.fromEntries(TESTER_FIELDS));
  const taken = take(routes, alertLabels({ ...alert, event_type: alert.kind }));
  return (
    <section class="card" aria-labelledby="tester-title">
      <h2 id="tester-title">Which route would this alert take?</h2>
      <p class="muted">Evaluated against the saved routes.</p>
      <div class="fields">
        {TESTER_FIELDS.map(([f]) => (
          <label>
            {f}
            <input aria-label={`Alert ${f}`} value={alert[f]} onInput={(e) => setAlert({ ...alert, [f]: e.target.value })} />
          </label>
        ))}
      </div>
      <p role="status" aria-label="Route taken">
        {taken.length ? (
          <>
            Takes {taken.map((r) => `“${r.name}”`).join(", then ")} → {taken.flatMap((r) => r.channels.map((c) => c.type)).join(", ")}
          </>
        ) : (
          "No route matches: the default channels."
        )}
      </p>
    </section>
  );
}

const DURATIONS = [
  ["1", "1 hour"],
  ["2", "2 hours"],
  ["8", "8 hours"],
  ["24", "1 day"],
  ["168", "1 week"],
];

function Silences() {
  const { api, project, can } = useCtx();
  const manage = can("alerts:manage");
  const [ask, confirmation] = useConfirm();
  const state = useAsync(() => api.get("/monitoring/silences", { project_id: project }), [api, project]);
  const [form, setForm] = useState({ ...Object.fromEntries(MATCH_FIELDS.map((f) => [f, ""])), hours: "2", reason: "" });
  const [adding, setAdding] = useState({ busy: false, error: null });
  async function add(event) {
    event.preventDefault();
    setAdding({ busy: true, error: null });
    const match = {};
    for (const f of MATCH_FIELDS) {
      const values = parseValues(form[f]);
      if (values) match[f] = values;
    }
    try {
      const ends_at = new Date(Date.now() + Number(form.hours) * 3600_000).toISOString();
      await api.post("/monitoring/silences", { project_id: project, match, ends_at, reason: form.reason.trim() });
      setForm({ ...form, reason: "" });
      setAdding({ busy: false, error: null });
      state.reload();
    } catch (e) {
      setAdding({ busy: false, error: e });
    }
  }
  const end = (s) =>
    ask({
      title: "End this silence now?",
      confirmLabel: "End silence",
      body: <p>{s.reason}</p>,
      run: async () => {
        await api.del(`/monitoring/silences/${encodeURIComponent(s.silence_id)}`);
        state.reload();
      },
    });
  const columns = [
    { label: "Reason", cell: (s) => s.reason },
    { label: "Matches", cell: (s) => Object.entries(s.match || {}).map(([k, v]) => `${k}=${text(v)}`).join(" · ") || "every alert" },
    ageColumn("Since", (s) => s.starts_at),
    { label: "Ends", title: (s) => stamp(s.ends_at), cell: (s) => stamp(s.ends_at) },
    { label: "State", cell: (s) => (s.active ? <Badge kind="high">active</Badge> : "scheduled or over") },
    { label: "By", cell: (s) => s.created_by },
    {
      label: "Actions",
      show: manage,
      class: "row-actions",
      cell: (s) => (
        <button type="button" class="secondary" onClick={() => end(s)}>
          End
        </button>
      ),
    },
  ];
  return (
    <>
      <section class="card">
        <h2>Silences of {project}</h2>
        <Async state={state} label="Loading silences" isEmpty={(d) => !d.silences.length} empty="No silences.">
          {(d) => <Table columns={columns} rows={d.silences} />}
        </Async>
        {confirmation}
      </section>
      {manage && (
        <section class="card">
          <h2>Add a silence</h2>
          <p class="muted">A silenced alert is still stored, listed and counted; it is not sent. Leave every field empty to silence all of the project's alerts.</p>
          <form onSubmit={add} aria-label="Add a silence">
            <div class="fields">
              {MATCH_FIELDS.map((f) => (
                <label>
                  {f}
                  <input aria-label={`Silence ${f}`} placeholder="any (or a, b)" value={form[f]} onInput={(e) => setForm({ ...form, [f]: e.target.value })} />
                </label>
              ))}
              <label>
                For
                <select aria-label="Silence for" value={form.hours} onChange={(e) => setForm({ ...form, hours: e.target.value })}>
                  {DURATIONS.map(([v, label]) => (
                    <option value={v}>{label}</option>
                  ))}
                </select>
              </label>
              <label>
                Reason
                <input aria-label="Silence reason" required maxLength={1024} value={form.reason} onInput={(e) => setForm({ ...form, reason: e.target.value })} />
              </label>
            </div>
            <ErrorBox error={adding.error} />
            <button type="submit" class="primary" disabled={adding.busy}>
              {adding.busy ? "Adding…" : "Add silence"}
            </button>
          </form>
        </section>
      )}
    </>
  );
}

/** An alert's deliveries: one per event, route and channel, with its target masked. */
export function Deliveries({ alertId }) {
  const { api } = useCtx();
  const state = useAsync(() => api.get(`/monitoring/alerts/${encodeURIComponent(alertId)}`), [api, alertId]);
  const columns = [
    { label: "Event", cell: (d) => d.event },
    { label: "Route", cell: (d) => d.route },
    { label: "Channel", cell: (d) => d.channel },
    { label: "Target", cell: (d) => <span class="mono">{d.target}</span> },
    { label: "Status", cell: (d) => <Badge kind={d.status === "failed" ? "critical" : d.status === "delivered" ? "ok" : ""}>{d.status}</Badge> },
    { label: "Attempts", cell: (d) => d.attempts ?? 0 },
    {
      label: "Last answer",
      cell: (d) => (
        <>
          {d.last_status_code ? `HTTP ${d.last_status_code}` : ""} {d.last_error && d.status !== "delivered" ? d.last_error : ""}
          {d.delivered_at && <div class="muted">delivered {ago(d.delivered_at)}</div>}
          {d.next_attempt_at && d.status === "pending" && <div class="muted">next {stamp(d.next_attempt_at)}</div>}
        </>
      ),
    },
  ];
  return (
    <Async state={state} label="Loading deliveries" isEmpty={(a) => !a.deliveries?.length} empty="No deliveries: this alert took no route (the default channels).">
      {(a) => (
        <>
          <p class="muted">
            {a.routes?.length ? `Routes: ${a.routes.join(", ")}` : "No route"}
            {a.silenced_by ? ` · silenced by ${a.silenced_by}` : ""}
          </p>
          <Table columns={columns} rows={a.deliveries} />
        </>
      )}
    </Async>
  );
}
