import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import "./style.css";
import { can, createApi, loadSession } from "./api.js";
import { Ctx } from "./app.jsx";
import { ErrorBox } from "./components/async.jsx";
import { Alerting } from "./pages/alerting.jsx";
import { Audit } from "./pages/audit.jsx";
import { Changes } from "./pages/changes.jsx";
import { Engines } from "./pages/engines.jsx";
import { Environments } from "./pages/environments.jsx";
import { Monitoring } from "./pages/monitoring.jsx";
import { Overview } from "./pages/overview.jsx";
import { Planning } from "./pages/planning.jsx";
import { Platforms } from "./pages/platforms.jsx";
import { Search } from "./pages/search.jsx";
import { hashParams, links } from "./links.js";

const PAGES = [
  { path: "overview", title: "Overview", view: Overview },
  { path: "engines", title: "Engines", view: Engines },
  { path: "platforms", title: "Platforms & flags", view: Platforms },
  { path: "monitoring", title: "Monitoring", view: Monitoring },
  { path: "alerting", title: "Alert routing", view: Alerting },
  { path: "audit", title: "Audit", view: Audit },
  { path: "environments", title: "Environments", view: Environments },
  { path: "changes", title: "Changes", view: Changes },
  { path: "planning", title: "Planning", view: Planning },
  { path: "search", title: "Search", view: Search, hidden: true }, // the header's Find box opens it
];
const PROJECT_KEY = "puraify.console.project";

function currentPath() {
  const path = location.hash.replace(/^#\/?/, "").split("?")[0];
  return PAGES.some((p) => p.path === path) ? path : "overview";
}

function SignIn({ api, notice, onSignedIn }) {
  const [engineId, setEngineId] = useState("admin");
  const [engineKey, setEngineKey] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.signIn(engineId.trim(), engineKey.trim()));
    } catch (e) {
      setError(e.status === 401 ? { ...e, message: "That engine id and key were not accepted." } : e);
      setBusy(false);
    }
  }
  return (
    <main class="signin">
      <form class="card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">PURAIFY console</h1>
        <p class="muted">Sign in with an engine id and key: admin, or an engine with read scopes. The key stays in this tab only.</p>
        {notice && (
          <p class="notice" role="alert">
            {notice}
          </p>
        )}
        <label>
          Engine id
          <input name="engine_id" autocomplete="username" required value={engineId} onInput={(e) => setEngineId(e.target.value)} />
        </label>
        <label>
          Engine key
          <input
            name="engine_key"
            type="password"
            autocomplete="current-password"
            required
            placeholder="pfk_…"
            value={engineKey}
            onInput={(e) => setEngineKey(e.target.value)}
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function Shell({ session, path, query, onSignOut, project, setProject }) {
  const readOnly = !can(session, "admin");
  const page = PAGES.find((p) => p.path === path);
  const View = page.view;
  const [draft, setDraft] = useState(project);
  useEffect(() => setDraft(project), [project]);
  useEffect(() => {
    document.title = `${page.title} · PURAIFY console`;
  }, [page]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">PURAIFY</div>
        <nav aria-label="Pages">
          {PAGES.filter((p) => !p.hidden).map((p) => (
            <a href={`#/${p.path}`} aria-current={p.path === path ? "page" : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <form
          class="project"
          onSubmit={(e) => {
            e.preventDefault();
            setProject(draft.trim());
          }}
        >
          <label>
            <span>Project</span>
            <input name="project" value={draft} placeholder="project id" onInput={(e) => setDraft(e.target.value)} list="granted-projects" />
          </label>
          <datalist id="granted-projects">
            {(session.projects || []).filter((p) => p !== "*").map((p) => (
              <option value={p} />
            ))}
          </datalist>
          <button type="submit" class="secondary">
            Open
          </button>
        </form>
        <form
          class="find"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            const q = e.currentTarget.elements.q.value.trim();
            if (q) location.hash = links.search(q);
          }}
        >
          <input name="q" type="search" aria-label="Find" title="an engine, a project, an alert, a request or a decision by its id" placeholder="Find an id…" />
        </form>
        <div class="who">
          <span class="mono" title={session.scopes.join(", ")}>
            {session.engineId}
          </span>
          {readOnly && <span class="badge muted">read-only</span>}
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{page.title}</h1>
        <View key={`${path}:${project}:${query}`} />
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState(() => loadSession(sessionStorage));
  const [notice, setNotice] = useState(null);
  const [path, setPath] = useState(currentPath);
  const [query, setQuery] = useState(() => location.hash.split("?")[1] || "");
  const [project, setProjectState] = useState(() => sessionStorage.getItem(PROJECT_KEY) || "");
  const api = useMemo(
    () =>
      createApi({
        fetch: (...args) => window.fetch(...args),
        storage: sessionStorage,
        onUnauthorized: (message) => {
          setSession(null);
          setNotice(message);
        },
      }),
    [],
  );
  useEffect(() => {
    const onHash = () => {
      setPath(currentPath());
      setQuery(location.hash.split("?")[1] || "");
      // A link may open another project (`?project=`): the search's results do.
      const wanted = hashParams().project;
      if (wanted) setProject(wanted);
    };
    onHash();
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  function setProject(value) {
    sessionStorage.setItem(PROJECT_KEY, value);
    setProjectState(value);
  }
  if (!session) {
    return (
      <SignIn
        api={api}
        notice={notice}
        onSignedIn={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }
  const signOut = () => {
    api.signOut();
    sessionStorage.removeItem(PROJECT_KEY);
    setProjectState("");
    setSession(null);
    setNotice("Signed out.");
  };
  return (
    <Ctx.Provider value={{ api, session, project, can: (scope) => can(session, scope) }}>
      <Shell session={session} path={path} query={query} onSignOut={signOut} project={project} setProject={setProject} />
    </Ctx.Provider>
  );
}

const root = document.getElementById("app");
root.textContent = "";
render(<App />, root);
