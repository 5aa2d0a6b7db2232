import { ErrorBox } from "./async.jsx";

/**
 * A 422's field-level messages by body field (`{"field": "body.ends_at", "message"}` → `{ ends_at: "..." }`),
 * and the error itself when some of it belongs to no field of the form (`rest`): shown above the buttons.
 */
export function fieldErrors(error, names) {
  if (!error) return { byField: {}, rest: null };
  const byField = {};
  for (const d of error.details || []) {
    const name = String(d.field || "").replace(/^body\./, "");
    if (names.includes(name)) byField[name] = (d.message || "").replace(/^Value error, /, "");
  }
  const rest = Object.keys(byField).length === (error.details || []).length && error.details?.length ? null : error;
  return { byField, rest };
}

/** A labelled input with the server's message for it under it (aria-invalid and aria-describedby set). */
export function Field({ id, label, message, children }) {
  return (
    <label for={id}>
      {label}
      {children({ id, "aria-invalid": message ? "true" : undefined, "aria-describedby": message ? `${id}-error` : undefined })}
      {message && (
        <span class="field-error" id={`${id}-error`}>
          {message}
        </span>
      )}
    </label>
  );
}

/** The part of a form's error no field shows. */
export function FormError({ errors }) {
  return <ErrorBox error={errors.rest} />;
}

/** A UTC `datetime-local` value ("2026-12-07T02:00") as the ISO time the API takes; "" when empty. */
export function utcInput(value) {
  if (!value) return "";
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

/** An epoch-ms time as a `datetime-local` value in UTC (to the minute). */
export function toUtcInput(ms) {
  return new Date(ms).toISOString().slice(0, 16);
}
