// CodeMirror 6: the flow's YAML editor, and the code fields of the forms (python, shell, SQL, YAML,
// or one line of text with completion of expression names inside {{ }}).
import React, { useContext, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { ColorModeContext } from "$/utils/context-registry";
import CodeMirror, { ExternalChange } from "@uiw/react-codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { python } from "@codemirror/lang-python";
import { sql } from "@codemirror/lang-sql";
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { forceLinting, linter, lintGutter } from "@codemirror/lint";
import { autocompletion, completeFromList, completionStatus } from "@codemirror/autocomplete";

// A dark theme when the studio is dark (CodeMirror's light one paints a white editor the page's light text is
// unreadable on): the page's own Radix greys, and token colours of at least 4.5:1 contrast on them (the usual
// one-dark theme has keys and line numbers under it).
const DARK = [
  EditorView.theme({
    "&": { backgroundColor: "var(--gray-2)", color: "var(--gray-12)" },
    ".cm-content": { caretColor: "var(--gray-12)" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--gray-12)" },
    ".cm-gutters": { backgroundColor: "var(--gray-3)", color: "var(--gray-11)", border: "none" },
    ".cm-activeLine": { backgroundColor: "var(--gray-3)" },
    ".cm-activeLineGutter": { backgroundColor: "var(--gray-4)", color: "var(--gray-12)" },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
      { backgroundColor: "var(--accent-6)" },
    ".cm-tooltip": { backgroundColor: "var(--gray-3)", color: "var(--gray-12)", border: "1px solid var(--gray-6)" },
    ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "var(--accent-5)", color: "var(--gray-12)" },
    ".cm-panels": { backgroundColor: "var(--gray-3)", color: "var(--gray-12)" },
  }, { dark: true }),
  syntaxHighlighting(HighlightStyle.define([
    { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "#8cc4ff" },
    { tag: [tags.string, tags.special(tags.string)], color: "#a8dba0" },
    { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#f0b879" },
    { tag: [tags.keyword, tags.operator, tags.typeName], color: "#d7a8ff" },
    { tag: [tags.comment, tags.lineComment, tags.blockComment], color: "#a3a9b4", fontStyle: "italic" },
    { tag: [tags.meta, tags.punctuation, tags.separator, tags.bracket], color: "#c8ccd4" },
    { tag: tags.invalid, color: "#ff9a9a" },
  ])),
];
const useEditorTheme = () => (useContext(ColorModeContext).resolvedColorMode === "dark" ? DARK : "light");

// The one change turning ``shown`` into ``wanted``: what lies between their common start and their common end.
function smallestChange(shown, wanted) {
  const shortest = Math.min(shown.length, wanted.length);
  let start = 0;
  while (start < shortest && shown.charCodeAt(start) === wanted.charCodeAt(start)) start += 1;
  let end = 0;
  while (end < shortest - start
    && shown.charCodeAt(shown.length - 1 - end) === wanted.charCodeAt(wanted.length - 1 - end)) end += 1;
  return { from: start, to: shown.length - end, insert: wanted.slice(start, wanted.length - end) };
}

// A new text from the server (a canvas edit, undo) changes only what differs. react-codemirror would replace the
// whole document: on a 1,000-task flow CodeMirror then parsed and drew all 4,000 lines again (~100 ms per drop).
// It runs before react-codemirror's own effect, which then finds the text already shown; while the person types
// (their last key under 200 ms ago) it does nothing and react-codemirror waits for the pause, as it did.
function useSmallestChanges(value, view) {
  const typed = useRef(0);
  const typing = useMemo(() => EditorView.updateListener.of((update) => {
    if (update.docChanged && !update.transactions.some((tr) => tr.annotation(ExternalChange))) typed.current = Date.now();
  }), []);
  useLayoutEffect(() => {
    const shown = view.current;
    if (!shown || typeof value !== "string" || Date.now() - typed.current < 200) return;
    const text = shown.state.doc.toString();
    if (text !== value) shown.dispatch({ changes: smallestChange(text, value), annotations: [ExternalChange.of(true)] });
  }, [value]);
  return typing;
}

export function YamlEditor({ value, problems, onChange, height, completions, names, readOnly, onSave, label }) {
  const theme = useEditorTheme();
  const view = useRef(null);
  const onCreateEditor = useRef((created) => { view.current = created; }).current;
  const typing = useSmallestChanges(value, view);
  // Ctrl+S saves the text as typed (typing reaches the server after a pause); the page's guard (editor_guard.jsx)
  // asks before leaving with unsaved changes and saves from everywhere else.
  const save = useRef(onSave);
  save.current = onSave;
  useEffect(() => {  // when the text last came from the server, for bench/editor.py
    window.__lannerTimes = { ...(window.__lannerTimes || {}), yaml: performance.now() };
  }, [value]);
  const saveKey = useMemo(() => Prec.highest(keymap.of([{ key: "Mod-s", preventDefault: true, run: (view) => {
    if (save.current) save.current({ text: view.state.doc.toString() });
    return true;
  } }])), []);
  // The extensions read the latest problems, names and change handler from here, so they stay the same objects:
  // react-codemirror reconfigures the whole editor whenever one changes, and the page renders it on every update
  // (a canvas edit's, a live run's).
  const words = useMemo(() => completeFromList(
    (completions || []).map((c) => ({ label: c.label, type: c.kind, detail: c.detail }))), [completions]);
  const latest = useRef({});
  latest.current = { problems, names, onChange, words };
  // Inside {{ }} the flow's expression names (inputs, variables, each task's output fields); elsewhere YAML words.
  const complete = useMemo(() => autocompletion({ override: [
    (context) => expressionNames(latest.current.names)(context) || latest.current.words(context)] }), []);
  const lint = useMemo(() => linter((shown) => (latest.current.problems || []).map((p) => {
    const line = shown.state.doc.line(Math.min(Math.max(p.line, 1), shown.state.doc.lines));
    const from = Math.min(line.from + Math.max(p.column - 1, 0), line.to);
    return { from, to: Math.max(from, line.to), severity: "error", message: p.message };
  }), { delay: 0 }), []);
  const problemsShown = JSON.stringify(problems || []);  // every update sends them anew, mostly the same
  useEffect(() => { if (view.current) forceLinting(view.current); }, [problemsShown]);
  const change = useMemo(() => (text) => latest.current.onChange && latest.current.onChange(text), []);
  // Long lines wrap: the pane is narrow beside the canvas (and a sideways-scrolling region is one a keyboard
  // cannot reach).
  const language = useMemo(() => [yaml(), lintGutter(), EditorView.lineWrapping,
    EditorView.contentAttributes.of({ "aria-label": label || "Flow YAML" })], [label]);
  const extensions = useMemo(() => [...language, lint, complete, saveKey, typing],
    [language, lint, complete, saveKey, typing]);
  return (
    <CodeMirror value={value} height={height || "100%"} extensions={extensions} readOnly={!!readOnly} theme={theme}
      editable={!readOnly} onChange={change} onCreateEditor={onCreateEditor}
      basicSetup={{ lineNumbers: true, foldGutter: true }} />
  );
}

const LANGUAGES = {
  python: () => python(), sql: () => sql(), shell: () => StreamLanguage.define(shell), yaml: () => yaml(),
};

// Names complete only inside {{ ... }}, where an expression is being written.
const expressionNames = (names) => (context) => {
  const before = context.state.sliceDoc(Math.max(0, context.pos - 300), context.pos);
  if (before.lastIndexOf("{{") === -1 || before.lastIndexOf("}}") > before.lastIndexOf("{{")) return null;
  const word = context.matchBefore(/[\w.']*/);
  if (!word || (word.from === word.to && !context.explicit)) return null;
  return {
    from: word.from, validFor: /^[\w.']*$/,
    options: (names || []).map((n) => ({ label: n.label, type: "variable", detail: n.detail, info: n.info || undefined })),
  };
};

// A form field edited with CodeMirror. It keeps its text locally and reports it when focus leaves
// (or Enter in a one-line field), so typing sends nothing to the server.
export function CodeField({ name, value, language, singleLine, names, onCommit, height, readOnly, label }) {
  const theme = useEditorTheme();
  const initial = value == null ? "" : String(value);
  const [text, setText] = useState(initial);
  useEffect(() => setText(initial), [initial]);
  const extensions = useMemo(() => {
    // The editable element is the field's input: it carries the field's label for screen readers.
    const list = [autocompletion({ override: [expressionNames(names)] }),
      EditorView.contentAttributes.of({ "aria-label": label || name || "" })];
    if (LANGUAGES[language]) list.push(LANGUAGES[language]());
    else list.push(EditorView.lineWrapping);  // prose (a description) wraps; code scrolls
    if (singleLine) {
      list.push(EditorState.transactionFilter.of((tr) => (tr.newDoc.lines > 1 ? [] : tr)));
      // Enter reports the field, unless it is picking a completion.
      const report = (view) => {
        if (completionStatus(view.state) === "active") return false;
        view.contentDOM.blur();
        return true;
      };
      list.push(Prec.high(keymap.of([{ key: "Enter", run: report }])));
    }
    return list;
  }, [language, singleLine, names, label, name]);
  const commit = () => { if (text !== initial && onCommit) onCommit({ name, value: text }); };
  return (
    <div className="code-field" data-field={name} data-language={language || "text"} style={{ width: "100%",
      minWidth: 0, overflow: "hidden", border: "1px solid var(--gray-6)", borderRadius: 4, fontSize: 12 }}>
      <CodeMirror value={text} onChange={setText} onBlur={commit} extensions={extensions} theme={theme}
        readOnly={!!readOnly} editable={!readOnly}
        height={singleLine ? undefined : height || "140px"}
        basicSetup={{ lineNumbers: !singleLine, foldGutter: false, highlightActiveLine: !singleLine }} />
    </div>
  );
}
