import { useRef, useState } from "preact/hooks";

export function Badge({ kind, children }) {
  return <span class={`badge ${kind || ""}`}>{children}</span>;
}

export function Json({ value }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
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

/**
 * A page's tab strip and its panel: `tabs` is a list of [id, label]; `children` is the selected tab's content.
 * The buttons and panel carry the ARIA tab roles the browser tests and screen readers find them by.
 */
export function Tabs({ label, tabs, tab, onSelect, children }) {
  return (
    <>
      <div class="tabs" role="tablist" aria-label={label}>
        {tabs.map(([id, text]) => (
          <button type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`} onClick={() => onSelect(id)}>
            {text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {children}
      </div>
    </>
  );
}
