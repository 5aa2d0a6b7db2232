import { useEffect, useState } from "preact/hooks";
import { useCtx } from "../app.jsx";
import { Async, Empty, useAsync } from "../components/async.jsx";
import { Badge } from "../components/display.jsx";
import { stamp } from "../format.js";
import { links, shifted } from "../links.js";
import { replaySteps } from "../replay.js";

const PLAY_MS = 1200;
const MAX_FLOWS = 10; // flows whose checks are read one by one; beyond, the project's checks of the period

/** Session replay: the form, then the replay of the session asked for. */
export function SessionReplay({ initial }) {
  const [draft, setDraft] = useState(initial);
  const [asked, setAsked] = useState(initial);
  return (
    <>
      <form
        class="card filters"
        aria-label="Session replay"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(draft.trim());
        }}
      >
        <label>
          Session id
          <input name="session_replay_id" required value={draft} onInput={(e) => setDraft(e.target.value)} />
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            Replay
          </button>
        </div>
      </form>
      {asked ? <Replay key={asked} sessionId={asked} /> : <Empty>Give a session id (events carry it as session_id) to play its steps back.</Empty>}
    </>
  );
}

/** The session's events (one Query of its index) and the checks of its flows, or of its period. */
async function loadSession(api, project, sessionId) {
  const { logs } = await api.get("/monitoring/logs", { project_id: project, session_id: sessionId, limit: 1000 });
  if (!logs.length) return { steps: [] };
  const first = logs.reduce((a, e) => (e.timestamp < a ? e.timestamp : a), logs[0].timestamp);
  const since = shifted(first, -15 * 60);
  const flows = [...new Set(logs.map((e) => e.flow_id).filter(Boolean))];
  const unflowed = logs.some((e) => !e.flow_id) || flows.length > MAX_FLOWS;
  const reads = unflowed ? [{}] : flows.map((flow_id) => ({ flow_id }));
  const timelines = await Promise.all(reads.map((subject) => api.get("/monitoring/audit", { project_id: project, since, limit: 1000, ...subject })));
  const decisions = timelines.flatMap((t) => t.timeline.filter((entry) => entry.kind === "decision"));
  return { steps: replaySteps(logs, decisions) };
}

function Replay({ sessionId }) {
  const { api, project } = useCtx();
  const state = useAsync(() => loadSession(api, project, sessionId), [api, project, sessionId]);
  return (
    <Async state={state} label="Loading the session" empty={`No event of session ${sessionId} in this project.`} isEmpty={(d) => !d?.steps?.length}>
      {(data) => <Player steps={data.steps} sessionId={sessionId} />}
    </Async>
  );
}

function Player({ steps, sessionId }) {
  const [at, setAt] = useState(0);
  const [playing, setPlaying] = useState(false);
  const last = steps.length - 1;
  useEffect(() => {
    if (!playing) return undefined;
    if (at >= last) {
      setPlaying(false);
      return undefined;
    }
    const timer = setTimeout(() => setAt((n) => Math.min(n + 1, last)), PLAY_MS);
    return () => clearTimeout(timer);
  }, [playing, at, last]);
  const step = steps[at];
  const started = Date.parse(steps[0].event.timestamp);
  return (
    <section class="card replay" aria-label={`Replay of session ${sessionId}`}>
      <div class="toolbar">
        <h2>Session {sessionId}</h2>
        <span class="muted">
          {steps.length} steps, {stamp(steps[0].event.timestamp)} – {stamp(steps[last].event.timestamp)}
        </span>
      </div>
      <div class="toolbar player" role="group" aria-label="Playback">
        <button type="button" class="secondary" onClick={() => setAt(0)} disabled={at === 0}>
          First
        </button>
        <button type="button" class="secondary" onClick={() => setAt(Math.max(0, at - 1))} disabled={at === 0}>
          Previous
        </button>
        <button
          type="button"
          class="primary"
          onClick={() => {
            if (!playing && at >= last) setAt(0);
            setPlaying(!playing);
          }}
        >
          {playing ? "Pause" : "Play"}
        </button>
        <button type="button" class="secondary" onClick={() => setAt(Math.min(last, at + 1))} disabled={at === last}>
          Next
        </button>
        <input type="range" min="0" max={last} value={at} aria-label="Step" onInput={(e) => setAt(Number(e.target.value))} />
        <span aria-live="polite">
          Step {at + 1} of {steps.length}
        </span>
      </div>
      <StepDetail step={step} offset={(Date.parse(step.event.timestamp) - started) / 1000} />
      <ol class="timeline steps">
        {steps.map((s) => (
          <li class={s.error ? "kind-alert" : s.decision ? "kind-decision" : ""} aria-current={s.index === at ? "step" : undefined}>
            <button type="button" class="link" onClick={() => setAt(s.index)}>
              {s.index + 1}. {s.engine || "–"} {[s.event.platform, s.event.action].filter(Boolean).join(" / ") || s.event.type}
            </button>{" "}
            <Badge kind={s.error ? "bad" : "ok"}>{s.event.status || s.event.type}</Badge>
          </li>
        ))}
      </ol>
    </section>
  );
}

function StepDetail({ step, offset }) {
  const e = step.event;
  const d = step.decision;
  return (
    <div class="step" aria-label="Current step">
      <dl class="facts">
        <dt>When</dt>
        <dd>
          {stamp(e.timestamp)} <span class="muted">(+{Math.round(offset * 10) / 10} s)</span>
        </dd>
        <dt>Engine</dt>
        <dd class="mono">{step.engine || "–"}</dd>
        <dt>Platform</dt>
        <dd class="mono">{e.platform || "–"}</dd>
        <dt>Action</dt>
        <dd class="mono">{e.action || "–"}</dd>
        <dt>Status</dt>
        <dd>
          <Badge kind={step.error ? "bad" : "ok"}>{e.status || e.type}</Badge>
        </dd>
        <dt>Duration</dt>
        <dd>{e.duration_ms === undefined || e.duration_ms === null ? "–" : `${e.duration_ms} ms`}</dd>
        <dt>Error</dt>
        <dd class={step.error ? "bad-text" : "muted"}>
          {step.error || "none"}
          {e.fingerprint && (
            <>
              {" "}
              · <a href={links.errorGroup(e.fingerprint)}>its error group</a>
            </>
          )}
        </dd>
        <dt>Allowed by</dt>
        <dd>
          {d ? (
            <>
              <Badge kind={d.status === "allowed" ? "ok" : "bad"}>{d.status}</Badge> check of {d.engine_id} on {d.platform} / {d.action_type} at {stamp(d.timestamp)}
              {d.details?.rule ? ` (rule ${d.details.rule})` : ""} · request <a href={links.search(d.request_id)}>{d.request_id}</a>
            </>
          ) : (
            <span class="muted">no check found for this step</span>
          )}
        </dd>
        {e.message && (
          <>
            <dt>Message</dt>
            <dd class="clip-wide">{e.message}</dd>
          </>
        )}
      </dl>
    </div>
  );
}
