import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Runs `load` now and whenever `deps` change; `reload` runs it again. Keeps the last data while reloading. */
export function useAsync(load, deps) {
  const [state, setState] = useState({ loading: true, error: null, data: undefined });
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    return Promise.resolve()
      .then(load)
      .then(
        (data) => mine === seq.current && setState({ loading: false, error: null, data }),
        (error) => mine === seq.current && setState((s) => ({ loading: false, error, data: s.data })),
      );
  }, deps);
  useEffect(() => {
    run();
  }, [run]);
  return { ...state, reload: run };
}

export function Loading({ label = "Loading" }) {
  return (
    <p class="state loading" role="status">
      <span class="spinner" aria-hidden="true" /> {label}…
    </p>
  );
}

export function Empty({ children }) {
  return <p class="state empty">{children}</p>;
}

export function ErrorBox({ error, retry }) {
  if (!error) return null;
  const notThere = error.status === 404 && error.code === "route_not_found";
  return (
    <div class="state error" role="alert">
      <strong>{notThere ? "Not available on this server" : error.status === 403 ? "Not allowed" : "Something went wrong"}</strong>
      <span>
        {notThere ? "This control plane does not offer this API yet." : error.message}
        {error.details?.length ? ` (${error.details.map((d) => d.message || d.reason || JSON.stringify(d)).join("; ")})` : ""}
        {error.requestId ? ` · request ${error.requestId}` : ""}
      </span>
      {retry && (
        <button type="button" class="secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading / error / empty / content for one `useAsync` state. */
export function Async({ state, empty, isEmpty = (d) => !d || (Array.isArray(d) && !d.length), children, label }) {
  if (state.data === undefined && state.loading) return <Loading label={label} />;
  if (state.data === undefined && state.error) return <ErrorBox error={state.error} retry={state.reload} />;
  return (
    <>
      {state.error && <ErrorBox error={state.error} retry={state.reload} />}
      {isEmpty(state.data) ? <Empty>{empty}</Empty> : children(state.data)}
    </>
  );
}

/**
 * A modal confirmation (native <dialog>: focus moves in, Esc closes, Tab stays inside).
 * `onConfirm` may be async; its error is shown in the dialog.
 */
export function Confirm({ title, children, confirmLabel, danger = false, onConfirm, onClose }) {
  const ref = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  async function confirm(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <form method="dialog" onSubmit={confirm}>
        <h2 id="dialog-title">{title}</h2>
        <div class="dialog-body">{children}</div>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={danger ? "danger" : "primary"} disabled={busy} autofocus>
            {busy ? "Working…" : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A modal that only shows something (an event's detail). */
export function Detail({ title, children, onClose }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog wide" aria-labelledby="detail-title" onClose={onClose} onCancel={onClose}>
      <h2 id="detail-title">{title}</h2>
      <div class="dialog-body">{children}</div>
      <div class="actions">
        <button type="button" class="primary" onClick={onClose} autofocus>
          Close
        </button>
      </div>
    </dialog>
  );
}

/** A secret shown once, with a copy button. */
export function KeyReveal({ engineId, engineKey, note, onDone }) {
  const [copied, setCopied] = useState(false);
  const field = useRef(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(engineKey);
    } catch {
      field.current.select();
      document.execCommand("copy");
    }
    setCopied(true);
  }
  return (
    <section class="reveal" aria-live="polite">
      <h3>Key for {engineId}</h3>
      <p>{note || "This key is shown once. Store it now: the control plane keeps only its hash."}</p>
      <div class="reveal-row">
        <input ref={field} class="mono" readOnly value={engineKey} aria-label={`engine key of ${engineId}`} onFocus={(e) => e.target.select()} />
        <button type="button" class="primary" onClick={copy}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <button type="button" class="secondary" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}

export function Badge({ kind, children }) {
  return <span class={`badge ${kind || ""}`}>{children}</span>;
}

const SERIES_COLORS = { allowed: "#1a7f37", denied: "#cf222e", failed: "#9a6700", events: "#1f4fd1", errors: "#cf222e" };

/** A time-series chart (uPlot) of `series` = {t: [epoch s], name: [values]...}; resizes with its box. */
export function TimeChart({ data, names, label, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    const node = box.current;
    if (!node) return undefined;
    const width = Math.max(280, node.clientWidth);
    const options = {
      width,
      height,
      title: undefined,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { size: 50 }],
      series: [
        {},
        ...names.map((name) => ({
          label: name,
          stroke: SERIES_COLORS[name] || "#555",
          width: 2,
          fill: `${SERIES_COLORS[name] || "#555555"}18`,
          points: { show: false },
        })),
      ],
    };
    const chart = new uPlot(options, [data.t, ...names.map((n) => data[n])], node);
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(280, node.clientWidth), height }));
    observer.observe(node);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [data, names.join(","), height]);
  return <div ref={box} class="chart" role="img" aria-label={label} />;
}

/** A tiny inline bar trend (SVG, no script): one bar per window. */
export function Sparkline({ values, label }) {
  const max = Math.max(1, ...values);
  const width = Math.max(values.length * 4, 40);
  return (
    <svg class="spark" viewBox={`0 0 ${width} 20`} width="96" height="20" role="img" aria-label={label} preserveAspectRatio="none">
      {values.map((v, i) => (
        <rect x={i * (width / values.length)} width={Math.max(1, width / values.length - 1)} y={20 - (v / max) * 20} height={(v / max) * 20} />
      ))}
    </svg>
  );
}

export function Json({ value }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}
