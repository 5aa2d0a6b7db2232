import { useState } from "preact/hooks";
import { ago, count, stamp } from "../format.js";
import { Async, ErrorBox, useAsync } from "./async.jsx";

/**
 * A table from column specs: `{ label, cell: (row) => content, class?, title?: (row) => text, show? }`.
 * A column with `show: false` is left out (an admin-only Actions column).
 */
export function Table({ columns, rows, class: className, scroll = true }) {
  const shown = columns.filter((c) => c.show !== false);
  const table = (
    <table class={className}>
      <thead>
        <tr>
          {shown.map((c) => (
            <th scope="col" class={c.class}>
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr>
            {shown.map((c) => (
              <td class={c.class} title={c.title?.(row)}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return scroll ? <div class="scroll">{table}</div> : table;
}

/** A column of times shown as ages ("5 min ago"), the exact time on hover. */
export function ageColumn(label, pick) {
  return { label, title: (row) => stamp(pick(row)), cell: (row) => ago(pick(row)) };
}

/**
 * Cursor pages of one list: `load(cursor)` answers a page (`cursor` undefined for the first) holding
 * `next_cursor`; `itemsOf(page)` lists its rows. The first page is reloaded whenever `deps` change.
 */
export function usePages(load, itemsOf, deps) {
  const [later, setLater] = useState([]);
  const [more, setMore] = useState({ loading: false, error: null });
  const state = useAsync(async () => {
    const first = await load(undefined);
    setLater([]);
    setMore({ loading: false, error: null });
    return first;
  }, deps);
  const pages = state.data ? [state.data, ...later] : [];
  const cursor = pages.length ? pages[pages.length - 1].next_cursor : null;
  async function loadMore() {
    setMore({ loading: true, error: null });
    try {
      const page = await load(cursor);
      setLater((shown) => [...shown, page]);
      setMore({ loading: false, error: null });
    } catch (error) {
      setMore({ loading: false, error });
    }
  }
  return { state, rows: pages.flatMap(itemsOf), cursor, more, loadMore };
}

/** A `usePages` list as a table: loading, error and empty states, how many are shown, and a button for the next page. */
export function PagedTable({ pages, columns, label, empty, noun, moreLabel, class: className }) {
  return (
    <Async state={pages.state} label={label} empty={empty} isEmpty={() => !pages.rows.length}>
      {() => (
        <>
          <Table columns={columns} rows={pages.rows} class={className} />
          <p class="muted">
            {count(pages.rows.length)} {noun} shown
          </p>
          <ErrorBox error={pages.more.error} retry={pages.loadMore} />
          {pages.cursor && (
            <button type="button" class="secondary" onClick={pages.loadMore} disabled={pages.more.loading}>
              {pages.more.loading ? "Loading…" : moreLabel}
            </button>
          )}
        </>
      )}
    </Async>
  );
}
