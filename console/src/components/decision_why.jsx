// "Why?" on a Planning Engine gate decision: its steps as the decision record holds them (the policy and
// configuration revisions it read, the facts it judged and their freshness, the reasons that denied it,
// the notes and verdict). A check's "Why?" (the Audit page) asks the check again with `explain`; a gate
// decision is not asked again: its record is what was judged then.
import { useState } from "preact/hooks";
import { seconds, stamp } from "../format.js";
import { Detail } from "./dialogs.jsx";
import { Badge } from "./display.jsx";
import { Table } from "./tables.jsx";

const FACT_COLUMNS = [
  { label: "Fact", class: "mono", cell: ([id]) => id },
  { label: "Value judged", class: "mono clip", cell: ([, f]) => (f.error ? <span class="bad-text">{f.error}</span> : JSON.stringify(f.value)) },
  { label: "Age", cell: ([, f]) => `${seconds(f.age_seconds)} / max ${seconds(f.max_age_seconds)}` },
  { label: "State", cell: ([, f]) => <Badge kind={f.error ? "bad" : f.stale ? "warn" : "ok"}>{f.error ? "unavailable" : f.stale ? "stale" : "fresh"}</Badge> },
];

/** The steps of a gate decision, in the order the gate took them. */
export function decisionSteps(d) {
  const facts = Object.entries(d.facts || {});
  const unusable = facts.filter(([, f]) => f.error || f.stale).map(([id]) => id);
  const steps = [
    {
      rule: "policy",
      outcome: d.policy?.revision ? "pass" : "fail",
      detail: d.policy?.revision ? `policy revision ${d.policy.revision} (config ${d.config_revision || "–"})` : "no valid policy bundle was active",
    },
    {
      rule: "facts",
      outcome: !facts.length ? "not_evaluated" : unusable.length ? "fail" : "pass",
      detail: !facts.length
        ? "no facts were judged"
        : unusable.length
          ? `${facts.length} fact(s) judged; stale or unavailable: ${unusable.join(", ")}`
          : `${facts.length} fact(s) judged, all fresh`,
    },
  ];
  for (const reason of d.deny_reasons || []) steps.push({ rule: "deny", outcome: "fail", detail: reason });
  if (!(d.deny_reasons || []).length) steps.push({ rule: "rules", outcome: d.allow ? "pass" : "fail", detail: d.allow ? "no rule denied the deployment" : "denied without a reason" });
  for (const note of d.notes || []) steps.push({ rule: "note", outcome: "not_evaluated", detail: note });
  if (d.verdict) steps.push({ rule: "verdict", outcome: d.allow ? "pass" : "fail", detail: d.verdict });
  return steps;
}

export function DecisionWhy({ decision: d, onClose }) {
  const facts = Object.entries(d.facts || {});
  const reasons = d.deny_reasons || [];
  return (
    <Detail title={`Why? ${d.phase || "pre_deploy"} decision for ${d.deployment_id}`} onClose={onClose}>
      <p role="status" aria-label="Decided by">
        <Badge kind={d.allow ? "ok" : "bad"}>{d.outcome}</Badge> {d.environment} · {stamp(d.evaluated_at)}{" "}
        {d.allow ? "Allowed: no rule denied it." : `Denied by ${reasons.length} reason(s)${d.fail_safe ? " (fail-safe: the gate could not judge, so it closed)" : ""}.`}
      </p>
      <ol class="steps" aria-label="Decision steps">
        {decisionSteps(d).map((s) => (
          <li>
            <Badge kind={s.outcome === "fail" ? "critical" : s.outcome === "pass" ? "ok" : "muted"}>{s.outcome}</Badge> <span class="mono">{s.rule}</span> {s.detail}
          </li>
        ))}
      </ol>
      <h3>Facts judged</h3>
      {facts.length ? <Table columns={FACT_COLUMNS} rows={facts} /> : <p class="muted">None.</p>}
      <p class="muted">
        policy {d.policy?.revision || "–"} {d.policy?.sha256 ? `(${d.policy.sha256.slice(0, 12)})` : ""} · config revision {d.config_revision || "–"} · evaluated in{" "}
        {d.eval_duration_ms} ms · decision <span class="mono">{d.decision_id}</span>
      </p>
    </Detail>
  );
}

/** A "Why?" button that opens a gate decision's steps (the Planning page's table, the Overview's list). */
export function DecisionWhyButton({ decision }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="secondary" onClick={() => setOpen(true)} aria-label={`Why was ${decision.deployment_id} ${decision.outcome} (${decision.decision_id})?`}>
        Why?
      </button>
      {open && <DecisionWhy decision={decision} onClose={() => setOpen(false)} />}
    </>
  );
}
