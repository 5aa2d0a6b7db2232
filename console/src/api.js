// The console's only way to the control plane: the same API the CLI and SDK use, with the
// operator's X-Engine-ID / X-Engine-Key on every call. Credentials live in sessionStorage only.

const SESSION_KEY = "puraify.console.session";

export class ApiError extends Error {
  constructor(status, code, message, details = [], requestId = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

export function loadSession(storage) {
  try {
    const raw = storage.getItem(SESSION_KEY);
    const session = raw ? JSON.parse(raw) : null;
    return session && session.engineId && session.engineKey ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(storage, session) {
  storage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(storage) {
  storage.removeItem(SESSION_KEY);
}

/** Whether the signed-in engine holds `scope` (admin holds every scope), as the server decides it. */
export function can(session, scope) {
  const scopes = session?.scopes || [];
  return scopes.includes("admin") || scopes.includes(scope);
}

export function queryString(params) {
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString() : "";
}

// The API version this console was built for (docs/api.md): sent on every call, so its pages keep the
// shapes they read whatever version the signed-in engine is pinned to.
export const API_VERSION = "2026-12-01";

export const EXPIRED_MESSAGE = "Your key is no longer accepted (expired, rotated or revoked). Sign in again.";

/**
 * An API client. `onUnauthorized` runs when the server answers 401 to a signed-in call: the
 * session is cleared first, so the app falls back to the sign-in page rather than a blank one.
 */
export function createApi({ fetch, storage, base = "", onUnauthorized = () => {}, newId = () => crypto.randomUUID() }) {
  async function send(method, path, { query, body, credentials } = {}) {
    const session = credentials || loadSession(storage);
    const headers = { Accept: "application/json", "Puraify-Version": API_VERSION };
    if (session) {
      headers["X-Engine-ID"] = session.engineId;
      headers["X-Engine-Key"] = session.engineKey;
    }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method === "POST") headers["Idempotency-Key"] = newId();
    let response;
    try {
      response = await fetch(base + path + queryString(query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "network_error", `The control plane could not be reached (${error.message}).`);
    }
    const text = await response.text();
    let payload = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = null;
    }
    if (response.status === 401 && !credentials) {
      clearSession(storage);
      onUnauthorized(EXPIRED_MESSAGE);
      throw new ApiError(401, "unauthorized", EXPIRED_MESSAGE);
    }
    if (!response.ok) {
      const error = payload?.error || {};
      throw new ApiError(
        response.status,
        error.code || `http_${response.status}`,
        error.message || `The server answered ${response.status}.`,
        error.details || [],
        payload?.request_id || null,
      );
    }
    return payload;
  }

  return {
    get: (path, query) => send("GET", path, { query }),
    post: (path, body) => send("POST", path, { body: body ?? {} }),
    put: (path, body) => send("PUT", path, { body }),
    patch: (path, body) => send("PATCH", path, { body }),
    del: (path) => send("DELETE", path),

    /** Check the credentials with the server, then keep them (and the scopes) for this tab only. */
    async signIn(engineId, engineKey) {
      const credentials = { engineId, engineKey };
      const valid = await send("POST", "/engines/validate", { body: {}, credentials });
      const session = {
        engineId: valid.engine_id,
        engineKey,
        scopes: valid.scopes || [],
        projects: valid.projects || null,
      };
      saveSession(storage, session);
      return session;
    },

    signOut() {
      clearSession(storage);
    },
  };
}
