import { useEffect, useRef, useState } from "preact/hooks";
import { useCtx } from "../app.jsx";

const PAGE = 20;

/** The projects whose id starts with `q` (GET /monitoring/projects); null when the server offers no list. */
async function findProjects(api, q) {
  try {
    const page = await api.get("/monitoring/projects", { q: q || undefined, limit: PAGE });
    return page.projects || page.items || [];
  } catch (error) {
    if (error.status === 422) return []; // not an id: nothing can match
    return null; // not allowed (no logs:read) or an older server: typing the id still works
  }
}

/**
 * A project id input that suggests the projects with events or environments as you type (a combobox).
 * Typing an id and pressing Enter still works when the list is unavailable. `onPick(id)` opens a project.
 */
export function ProjectPicker({ value, onPick, label = "Project" }) {
  const { api } = useCtx();
  const [draft, setDraft] = useState(value);
  const [open, setOpen] = useState(false);
  const [found, setFound] = useState([]);
  const [active, setActive] = useState(-1);
  const [unavailable, setUnavailable] = useState(false);
  const seq = useRef(0);
  useEffect(() => setDraft(value), [value]);
  useEffect(() => {
    if (!open || unavailable) return undefined;
    const mine = ++seq.current;
    const timer = setTimeout(async () => {
      const projects = await findProjects(api, draft.trim());
      if (mine !== seq.current) return;
      if (projects === null) setUnavailable(true);
      else {
        setFound(projects);
        setActive(-1);
      }
    }, 150);
    return () => clearTimeout(timer);
  }, [api, draft, open, unavailable]);

  function pick(id) {
    setDraft(id);
    setOpen(false);
    onPick(id);
  }
  function onKeyDown(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setOpen(true);
      if (found.length) setActive((i) => (event.key === "ArrowDown" ? (i + 1) % found.length : (i <= 0 ? found.length : i) - 1));
    } else if (event.key === "Escape") {
      setOpen(false);
    } else if (event.key === "Enter" && open && active >= 0 && found[active]) {
      event.preventDefault();
      pick(found[active].project_id);
    }
  }
  const shown = open && !unavailable;
  return (
    <form
      class="project picker"
      onSubmit={(e) => {
        e.preventDefault();
        pick(draft.trim());
      }}
    >
      <label>
        <span>{label}</span>
        <input
          name="project"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={shown ? "true" : "false"}
          aria-controls="project-options"
          aria-activedescendant={shown && active >= 0 ? `project-option-${active}` : undefined}
          autocomplete="off"
          value={draft}
          placeholder="find a project"
          onInput={(e) => {
            setDraft(e.target.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={onKeyDown}
        />
      </label>
      <button type="submit" class="secondary">
        Open
      </button>
      {shown && (
        <ul id="project-options" role="listbox" aria-label="Suggestions" class="picker-options">
          {found.map((p, i) => (
            <li
              id={`project-option-${i}`}
              role="option"
              aria-selected={i === active ? "true" : "false"}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus: the input's blur would close the list first
                pick(p.project_id);
              }}
            >
              <span class="mono">{p.project_id}</span>
              <span class="muted">{[p.events && "events", p.environments && "environments"].filter(Boolean).join(" · ")}</span>
            </li>
          ))}
          {!found.length && <li class="muted empty">{draft.trim() ? `No project starts with “${draft.trim()}”: press Enter to open it anyway` : "No projects with events or environments yet"}</li>}
        </ul>
      )}
    </form>
  );
}
