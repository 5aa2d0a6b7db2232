import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { EnvNotFound } from "./env_not_found.jsx";

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
  // The server says how to create a missing environment: show that, and offer to do it.
  if (error.code === "env_not_found" && error.details?.[0]?.create) return <EnvNotFound error={error} onCreated={retry} />;
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
