import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { ErrorBox } from "./async.jsx";

/** A native <dialog> opened as a modal on first render: focus moves in, Esc closes, Tab stays inside. */
function useModal() {
  const ref = useRef(null);
  useLayoutEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  return ref;
}

/** A modal confirmation. `onConfirm` may be async; its error is shown in the dialog, which then stays open. */
export function Confirm({ title, children, confirmLabel, danger = false, onConfirm, onClose }) {
  const ref = useModal();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
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

/**
 * One confirmation at a time for a page: `const [ask, dialog] = useConfirm()`, render `dialog` once,
 * and `ask({ title, confirmLabel, danger, body, run })` opens it; `run` (async) is what the confirm does.
 */
export function useConfirm() {
  const [asked, setAsked] = useState(null);
  const dialog = asked && (
    <Confirm title={asked.title} confirmLabel={asked.confirmLabel} danger={asked.danger} onConfirm={asked.run} onClose={() => setAsked(null)}>
      {asked.body}
    </Confirm>
  );
  return [setAsked, dialog];
}

/** A modal that only shows something (an event's detail). */
export function Detail({ title, children, onClose }) {
  const ref = useModal();
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
