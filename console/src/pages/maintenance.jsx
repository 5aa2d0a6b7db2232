// Scheduled maintenance windows on the Platforms page: a timeline of the coming days per platform, the
// windows as a list (cancel), and a form to schedule one. Checks of a platform are denied
// (`platform_maintenance`) from a window's first second to its last.
import { useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, useAsync } from "../components/async.jsx";
import { useConfirm } from "../components/dialogs.jsx";
import { Field, FormError, fieldErrors, toUtcInput, utcInput } from "../components/fields.jsx";
import { Badge } from "../components/display.jsx";
import { SimulatedFlips } from "../components/simulated.jsx";
import { Table } from "../components/tables.jsx";
import { ago, parseTime, sameHoursBefore, stamp } from "../format.js";

const DAY = 86_400_000;
const DAYS = 8; // today (UTC) and the next 7 days
const WIDTH = 1000; // the SVG track's units

function span(w) {
  return `${stamp(w.starts_at)} – ${stamp(w.ends_at)}`;
}

/** One platform's track: a bar per window, a line for now, a tick per day. */
function Track({ platform, windows, from, now }) {
  const x = (ms) => Math.min(WIDTH, Math.max(0, ((ms - from) / (DAYS * DAY)) * WIDTH));
  const shown = windows.filter((w) => parseTime(w.starts_at) < from + DAYS * DAY);
  const label = shown.length
    ? `${platform}: ${shown.map((w) => `${w.reason} (${span(w)}${w.active ? ", in force" : ""})`).join("; ")}`
    : `${platform}: no maintenance window in the next 7 days`;
  return (
    <svg class="track" viewBox={`0 0 ${WIDTH} 24`} preserveAspectRatio="none" role="img" aria-label={label}>
      {Array.from({ length: DAYS - 1 }, (_, i) => (
        <line class="tick" x1={((i + 1) * WIDTH) / DAYS} x2={((i + 1) * WIDTH) / DAYS} y1="0" y2="24" />
      ))}
      {shown.map((w) => {
        const left = x(parseTime(w.starts_at));
        return (
          <rect class={w.active ? "bar active" : "bar"} x={left} y="4" height="16" width={Math.max(4, x(parseTime(w.ends_at)) - left)}>
            <title>{`${w.reason}: ${span(w)}`}</title>
          </rect>
        );
      })}
      <line class="now" x1={x(now)} x2={x(now)} y1="0" y2="24" />
    </svg>
  );
}

/** "In maintenance now: …" and "Next: …" from the platform list's summary. */
function Summary({ platform }) {
  const { current, next } = platform.maintenance || {};
  if (!current && !next) return <span class="muted">No window scheduled.</span>;
  return (
    <>
      {current && (
        <div>
          <Badge kind="warn">in maintenance</Badge> {current.reason} <span class="muted">until {stamp(current.ends_at)}</span>
        </div>
      )}
      {next && (
        <div>
          Next: {next.reason}{" "}
          <span class="muted" title={span(next)}>
            {ago(next.starts_at)}, {stamp(next.starts_at)}
          </span>
        </div>
      )}
    </>
  );
}

function ScheduleWindow({ platforms, onScheduled }) {
  const { api } = useCtx();
  const [form, setForm] = useState(() => {
    const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    return { platform: platforms[0]?.name || "", starts_at: toUtcInput(start), ends_at: toUtcInput(start + 3_600_000), reason: "" };
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const errors = fieldErrors(error, ["starts_at", "ends_at", "reason"]);
  const input = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  // judged on real traffic of the same hours a day (or a week) before, which a daily or weekly rhythm repeats
  const past = sameHoursBefore(Date.parse(utcInput(form.starts_at)), Date.parse(utcInput(form.ends_at)));
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { starts_at: utcInput(form.starts_at), ends_at: utcInput(form.ends_at), reason: form.reason };
      const made = await api.post(`/platforms/${encodeURIComponent(form.platform)}/maintenance`, body);
      setForm({ ...form, reason: "" });
      onScheduled(made);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="schedule-form" onSubmit={submit} noValidate aria-label="Schedule a maintenance window">
      <h3>Schedule a window</h3>
      <div class="fields">
        <label>
          Platform
          <select {...input("platform")}>
            {platforms.map((p) => (
              <option value={p.name}>{p.name}</option>
            ))}
          </select>
        </label>
        <Field id="window-starts" label="Starts (UTC)" message={errors.byField.starts_at}>
          {(aria) => <input type="datetime-local" {...aria} {...input("starts_at")} />}
        </Field>
        <Field id="window-ends" label="Ends (UTC)" message={errors.byField.ends_at}>
          {(aria) => <input type="datetime-local" {...aria} {...input("ends_at")} />}
        </Field>
        <Field id="window-reason" label="Reason" message={errors.byField.reason}>
          {(aria) => <input {...aria} {...input("reason")} placeholder="database upgrade" />}
        </Field>
      </div>
      <FormError errors={errors} />
      <SimulatedFlips
        change={form.platform ? { platforms: { [form.platform]: { status: "maintenance" } } } : null}
        since={past?.since}
        until={past?.until}
        title={past ? `What this window would have denied over ${past.label}` : "What this window would have denied (last 24 hours)"}
      />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !form.platform}>
          {busy ? "Working…" : "Schedule window"}
        </button>
      </div>
    </form>
  );
}

/** The Platforms page's maintenance card; `platforms` as `GET /platforms/list` answers them, `onChanged` reloads it. */
export function MaintenanceWindows({ platforms, admin, onChanged }) {
  const { api } = useCtx();
  const state = useAsync(async () => {
    // Only platforms whose summary counts a window need their list read.
    const lists = await Promise.all(
      platforms
        .filter((p) => p.maintenance?.scheduled)
        .map((p) => api.get(`/platforms/${encodeURIComponent(p.name)}/maintenance`)),
    );
    return { at: Date.now(), windows: Object.fromEntries(lists.map((l) => [l.platform, l.windows])) };
  }, [api, platforms]);
  const [ask, confirmation] = useConfirm();
  const cancel = (w) =>
    ask({
      title: `Cancel the window on ${w.platform}?`,
      confirmLabel: "Cancel window",
      danger: true,
      body: (
        <p>
          {w.reason} ({span(w)}).{" "}
          {w.active
            ? `It is in force now: checks of ${w.platform} are allowed again within the cache period (30 s by default).`
            : "Checks will not be denied at its time."}
        </p>
      ),
      run: async () => {
        await api.del(`/platforms/${encodeURIComponent(w.platform)}/maintenance/${encodeURIComponent(w.window_id)}`);
        onChanged();
      },
    });
  const columns = [
    { label: "When", cell: (w) => <span title={`created ${stamp(w.created_at)}`}>{span(w)}</span> },
    { label: "Platform", class: "mono", cell: (w) => w.platform },
    { label: "State", cell: (w) => (w.active ? <Badge kind="warn">in force</Badge> : <Badge kind="info">starts {ago(w.starts_at)}</Badge>) },
    { label: "Reason", class: "clip-wide", cell: (w) => w.reason },
    { label: "By", class: "mono", cell: (w) => w.created_by },
    {
      label: "Cancel",
      show: admin,
      class: "row-actions",
      cell: (w) => (
        <button type="button" class="secondary" onClick={() => cancel(w)} aria-label={`Cancel window ${w.reason} on ${w.platform}`}>
          Cancel window
        </button>
      ),
    },
  ];
  return (
    <section class="card" aria-labelledby="maintenance-title">
      <h2 id="maintenance-title">Maintenance windows</h2>
      <p class="muted">
        Checks of a platform are denied (rule <span class="mono">platform_maintenance</span>) from a window's first second to its last. Times in UTC.
      </p>
      <Async state={state} label="Loading maintenance windows">
        {({ at, windows }) => {
          const from = Math.floor(at / DAY) * DAY;
          const all = platforms.flatMap((p) => windows[p.name] || []);
          return (
            <>
              <div class="maintenance-timeline" role="group" aria-label="Maintenance windows, today and the next 7 days (UTC)">
                <div class="timeline-row" aria-hidden="true">
                  <span />
                  <div class="days">
                    {Array.from({ length: DAYS }, (_, i) => {
                      const day = new Date(from + i * DAY);
                      return (
                        <span>
                          <span class="weekday">{day.toLocaleDateString("en", { weekday: "short", timeZone: "UTC" })} </span>
                          {day.getUTCDate()}
                        </span>
                      );
                    })}
                  </div>
                </div>
                {platforms.map((p) => (
                  <div class="timeline-row" data-platform={p.name}>
                    <div>
                      <span class="mono">{p.name}</span>
                      <div class="small-text">
                        <Summary platform={p} />
                      </div>
                    </div>
                    <Track platform={p.name} windows={windows[p.name] || []} from={from} now={at} />
                  </div>
                ))}
              </div>
              {all.length > 0 && <Table columns={columns} rows={all} />}
            </>
          );
        }}
      </Async>
      {admin && platforms.length > 0 && <ScheduleWindow platforms={platforms} onScheduled={onChanged} />}
      {confirmation}
    </section>
  );
}
