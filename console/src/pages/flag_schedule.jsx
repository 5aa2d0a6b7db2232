// Scheduled flag changes on the Platforms page: each flag's pending changes (when, to what, who scheduled
// it), cancel one, and schedule one. A check follows the change from its second; it is then recorded as
// the flag's own change, by the admin who scheduled it.
import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, useAsync } from "../components/async.jsx";
import { useConfirm } from "../components/dialogs.jsx";
import { Badge } from "../components/display.jsx";
import { Field, FormError, fieldErrors, toUtcInput, utcInput } from "../components/fields.jsx";
import { SimulatedFlips } from "../components/simulated.jsx";
import { Table } from "../components/tables.jsx";
import { ago, stamp } from "../format.js";

const state = (enabled) => (enabled ? "enabled" : "disabled");

function ScheduleChange({ flags, onScheduled }) {
  const { api } = useCtx();
  const [form, setForm] = useState(() => ({
    flag: flags[0]?.name || "",
    enabled: flags[0] ? String(!flags[0].enabled) : "false",
    at: toUtcInput(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000),
  }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const errors = fieldErrors(error, ["enabled", "at"]);
  const input = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { enabled: form.enabled === "true", at: utcInput(form.at) };
      await api.post(`/config/flags/${encodeURIComponent(form.flag)}/schedule`, body);
      onScheduled();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="schedule-form" onSubmit={submit} noValidate aria-label="Schedule a flag change">
      <h3>Schedule a change</h3>
      <div class="fields">
        <label>
          Flag
          <select
            name="flag"
            value={form.flag}
            onInput={(e) => {
              const chosen = flags.find((f) => f.name === e.target.value);
              setForm({ ...form, flag: e.target.value, enabled: String(!chosen?.enabled) }); // the switch away from its state
            }}
          >
            {flags.map((f) => (
              <option value={f.name}>{f.name}</option>
            ))}
          </select>
        </label>
        <Field id="flag-change-enabled" label="Switch to" message={errors.byField.enabled}>
          {(aria) => (
            <select {...aria} {...input("enabled")}>
              <option value="true">enabled</option>
              <option value="false">disabled</option>
            </select>
          )}
        </Field>
        <Field id="flag-change-at" label="At (UTC)" message={errors.byField.at}>
          {(aria) => <input type="datetime-local" {...aria} {...input("at")} />}
        </Field>
      </div>
      <FormError errors={errors} />
      <SimulatedFlips
        change={form.flag ? { flags: { [form.flag]: { enabled: form.enabled === "true" } } } : null}
        title="What this change would have flipped (last 24 hours)"
      />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !form.flag}>
          {busy ? "Working…" : "Schedule change"}
        </button>
      </div>
    </form>
  );
}

/** The Platforms page's card of scheduled flag changes; `flags` as `GET /config/global` lists them. */
export function FlagSchedules({ flags, admin, onChanged }) {
  const { api } = useCtx();
  const schedules = useAsync(async () => {
    const lists = await Promise.all(flags.map((f) => api.get(`/config/flags/${encodeURIComponent(f.name)}/schedule`)));
    return lists.flatMap((l) => l.changes);
  }, [api, flags]);
  const [ask, confirmation] = useConfirm();
  const cancel = (c) =>
    ask({
      title: `Cancel the change of ${c.flag}?`,
      confirmLabel: "Cancel change",
      danger: true,
      body: (
        <p>
          {c.flag} stays as it is at {stamp(c.at)} instead of being {state(c.enabled)}.
        </p>
      ),
      run: async () => {
        await api.del(`/config/flags/${encodeURIComponent(c.flag)}/schedule/${encodeURIComponent(c.schedule_id)}`);
        onChanged();
      },
    });
  const columns = [
    { label: "At", title: (c) => stamp(c.at), cell: (c) => `${stamp(c.at)} (${ago(c.at)})` },
    { label: "Flag", class: "mono", cell: (c) => c.flag },
    { label: "Switches to", cell: (c) => <Badge kind={c.enabled ? "ok" : "bad"}>{state(c.enabled)}</Badge> },
    { label: "Scheduled by", cell: (c) => <span class="mono">{c.created_by}</span> },
    {
      label: "Cancel",
      show: admin,
      class: "row-actions",
      cell: (c) => (
        <button type="button" class="secondary" onClick={() => cancel(c)} aria-label={`Cancel the change of ${c.flag} at ${stamp(c.at)}`}>
          Cancel change
        </button>
      ),
    },
  ];
  return (
    <section class="card" aria-labelledby="flag-schedule-title">
      <h2 id="flag-schedule-title">Scheduled flag changes</h2>
      <p class="muted">Checks follow a change from its second (times in UTC); it is then recorded as the flag's change, by the admin who scheduled it.</p>
      <Async state={schedules} label="Loading scheduled changes" empty="No flag change is scheduled.">
        {(changes) => <Table columns={columns} rows={changes.sort((a, b) => a.at.localeCompare(b.at))} />}
      </Async>
      {admin && flags.length > 0 && <ScheduleChange flags={flags} onScheduled={onChanged} />}
      {confirmation}
    </section>
  );
}
