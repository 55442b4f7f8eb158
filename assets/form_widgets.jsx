// Form widgets that keep what is being typed in the browser and report the whole value once:
// key/value maps, lists, lists of records (inputs, triggers), and the splitter between panes.
import React, { useEffect, useRef, useState } from "react";

const cell = { flex: 1, minWidth: 0, fontSize: 12, padding: "3px 5px", border: "1px solid var(--gray-6)",
  borderRadius: 4, background: "var(--color-background)", color: "inherit" };
const small = { fontSize: 12, padding: "1px 8px", border: "1px solid var(--gray-6)", borderRadius: 4,
  background: "var(--gray-3)", cursor: "pointer", color: "inherit" };

// Report when focus leaves the widget, not when it moves between its own cells.
function useCommitOnLeave(commit, editing) {
  return (event) => {
    if (event.currentTarget.contains(event.relatedTarget)) return;
    if (editing) editing.current = false;
    commit();
  };
}

// Follow the value the server sends, except while the person is typing in the widget: an echo of an
// earlier edit must not wipe what they typed since.
function useServerValue(value, toLocal, setLocal) {
  const editing = useRef(false);
  useEffect(() => { if (!editing.current) setLocal(toLocal(value)); }, [JSON.stringify(value)]);
  return editing;
}

const entriesOf = (value) => (value && typeof value === "object" && !Array.isArray(value)
  ? Object.entries(value).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]) : []);

// Each cell's accessible name: the field's label (its name unless told), the column, and the row's number.
const cellLabel = (label, name, column, index) => `${label || name || ""} ${column} ${index + 1}`.trim();

export function KeyValueField({ name, value, keyLabel, valueLabel, label, onCommit, disabled }) {
  const [rows, setRows] = useState(entriesOf(value));
  const editing = useServerValue(value, entriesOf, setRows);
  const commit = (next) => {
    const result = {};
    (next || rows).forEach(([k, v]) => { if (k.trim()) result[k.trim()] = v; });
    if (JSON.stringify(result) !== JSON.stringify(Object.fromEntries(entriesOf(value)))) onCommit({ name, value: result });
  };
  const onBlur = useCommitOnLeave(() => commit(), editing);
  const set = (index, position, text) => setRows(rows.map((r, i) => (i === index
    ? (position === 0 ? [text, r[1]] : [r[0], text]) : r)));
  return (
    <div className="kv-field" data-field={name} onBlur={onBlur} onFocus={() => { editing.current = true; }}
      style={{ width: "100%" }}>
      {rows.map((row, index) => (
        <div key={index} style={{ display: "flex", gap: 4, marginBottom: 3 }}>
          <input className="kv-key" style={cell} disabled={!!disabled} placeholder={keyLabel || "key"} value={row[0]}
            aria-label={cellLabel(label, name, keyLabel || "key", index)}
            onChange={(e) => set(index, 0, e.target.value)} />
          <input className="kv-value" style={cell} disabled={!!disabled} placeholder={valueLabel || "value"} value={row[1]}
            aria-label={cellLabel(label, name, valueLabel || "value", index)}
            onChange={(e) => set(index, 1, e.target.value)} />
          {!disabled && <button type="button" style={small} title="Remove" aria-label={`Remove row ${index + 1}`} className="kv-remove"
            onClick={() => { const next = rows.filter((_, i) => i !== index); setRows(next); commit(next); }}>×</button>}
        </div>
      ))}
      {!disabled && <button type="button" style={small} className="kv-add" onClick={() => setRows([...rows, ["", ""]])}>+ add</button>}
    </div>
  );
}

const itemsOf = (value) => (Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : []);

export function ListField({ name, value, label, onCommit, disabled }) {
  const [items, setItems] = useState(itemsOf(value));
  const editing = useServerValue(value, itemsOf, setItems);
  const commit = (next) => {
    const result = (next || items).filter((v) => v.trim() !== "");
    if (JSON.stringify(result) !== JSON.stringify(itemsOf(value))) onCommit({ name, value: result });
  };
  const onBlur = useCommitOnLeave(() => commit(), editing);
  return (
    <div className="list-field" data-field={name} onBlur={onBlur} onFocus={() => { editing.current = true; }}
      style={{ width: "100%" }}>
      {items.map((item, index) => (
        <div key={index} style={{ display: "flex", gap: 4, marginBottom: 3 }}>
          <input className="list-item" style={cell} disabled={!!disabled} value={item} aria-label={cellLabel(label, name, "item", index)}
            onChange={(e) => setItems(items.map((v, i) => (i === index ? e.target.value : v)))} />
          {!disabled && <button type="button" style={small} title="Remove" aria-label={`Remove item ${index + 1}`}
            onClick={() => { const next = items.filter((_, i) => i !== index); setItems(next); commit(next); }}>×</button>}
        </div>
      ))}
      {!disabled && <button type="button" style={small} className="list-add" onClick={() => setItems([...items, ""])}>+ add</button>}
    </div>
  );
}

// Records such as a flow's inputs or triggers: one row per record, one cell per column. Keys a
// column does not show (a trigger's conditions, say) are kept as they are.
export function RecordListField({ name, value, columns, label, onCommit, disabled }) {
  const [rows, setRows] = useState(Array.isArray(value) ? value : []);
  const editing = useServerValue(value, (v) => (Array.isArray(v) ? v : []), setRows);
  const commit = (next) => {
    if (JSON.stringify(next || rows) !== JSON.stringify(value || [])) onCommit({ name, value: next || rows });
  };
  const onBlur = useCommitOnLeave(() => commit(), editing);
  const set = (index, column, cellValue, now) => {
    const next = rows.map((r, i) => (i === index ? { ...r, [column]: cellValue } : r));
    setRows(next);
    if (now) commit(next);
  };
  // A new record lists its keys in column order (id first); empty cells are dropped when it is written.
  const blank = Object.fromEntries((columns || []).map((c) => [c.name, c.default === undefined ? "" : c.default]));
  return (
    <div className="record-field" data-field={name} onBlur={onBlur} onFocus={() => { editing.current = true; }}
      style={{ width: "100%", overflowX: "auto" }}>
      <div style={{ display: "flex", gap: 4, fontSize: 11, color: "var(--gray-11)" }}>
        {(columns || []).map((c) => <div key={c.name} style={{ flex: c.kind === "switch" ? "0 0 52px" : 1 }}>{c.label}</div>)}
        <div style={{ width: 26 }} />
      </div>
      {rows.map((row, index) => (
        <div key={index} className="record-row" style={{ display: "flex", gap: 4, marginBottom: 3, alignItems: "center" }}>
          {(columns || []).map((c) => {
            const current = row[c.name];
            if (c.kind === "select") {
              return (
                <select key={c.name} name={c.name} style={cell} disabled={!!disabled} value={current ?? ""}
                  aria-label={cellLabel(label, name, c.label || c.name, index)}
                  onChange={(e) => set(index, c.name, e.target.value, true)}>
                  {(c.options || []).map((o) => <option key={o} value={o}>{o}</option>)}
                </select>
              );
            }
            if (c.kind === "switch") {
              return (
                <input key={c.name} name={c.name} type="checkbox" disabled={!!disabled} style={{ flex: "0 0 52px" }}
                  aria-label={cellLabel(label, name, c.label || c.name, index)}
                  checked={current === undefined ? Boolean(c.default) : Boolean(current)}
                  onChange={(e) => set(index, c.name, e.target.checked, true)} />
              );
            }
            return (
              <input key={c.name} name={c.name} style={cell} disabled={!!disabled} placeholder={c.placeholder || ""}
                aria-label={cellLabel(label, name, c.label || c.name, index)}
                value={current == null ? "" : (typeof current === "string" ? current : JSON.stringify(current))}
                onChange={(e) => set(index, c.name, e.target.value, false)} />
            );
          })}
          {!disabled && <button type="button" style={small} title="Remove" aria-label={`Remove row ${index + 1}`} className="record-remove"
            onClick={() => { const next = rows.filter((_, i) => i !== index); setRows(next); commit(next); }}>×</button>}
        </div>
      ))}
      {!disabled && <button type="button" style={small} className="record-add" onClick={() => setRows([...rows, { ...blank }])}>+ add</button>}
    </div>
  );
}

// Drag to resize the pane with id ``target`` (right of the handle); the width is remembered.
export function PaneSplitter({ target, storageKey }) {
  const pane = useRef(null);
  useEffect(() => {
    const saved = window.localStorage.getItem(storageKey);
    const element = document.getElementById(target);
    if (saved && element) { element.style.width = saved; element.style.flex = "none"; }
  }, [target, storageKey]);
  const onPointerDown = (event) => {
    event.preventDefault();
    pane.current = document.getElementById(target);
    if (!pane.current) return;
    const startX = event.clientX;
    const startWidth = pane.current.getBoundingClientRect().width;
    const move = (e) => {
      const width = Math.max(240, Math.min(window.innerWidth * 0.75, startWidth - (e.clientX - startX)));
      pane.current.style.width = `${Math.round(width)}px`;
      pane.current.style.flex = "none";
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.localStorage.setItem(storageKey, pane.current.style.width);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };
  return (
    <div id="pane-splitter" title="Drag to resize" role="separator" aria-orientation="vertical"
      aria-label="Resize the side pane" onPointerDown={onPointerDown}
      style={{ width: 6, cursor: "col-resize", alignSelf: "stretch", background: "var(--gray-4)", borderRadius: 3,
        flex: "0 0 6px" }} />
  );
}
