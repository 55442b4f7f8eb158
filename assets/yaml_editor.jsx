// The YAML editor: CodeMirror 6 with YAML highlighting and inline error markers.
import React, { useEffect, useMemo } from "react";
import CodeMirror from "@uiw/react-codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter } from "@codemirror/lint";
import { autocompletion, completeFromList } from "@codemirror/autocomplete";

export function YamlEditor({ value, problems, onChange, height, dirty, completions }) {
  // Leaving the page with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return undefined;
    const guard = (event) => { event.preventDefault(); event.returnValue = ""; };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);
  const complete = useMemo(() => autocompletion({ override: [completeFromList(
    (completions || []).map((c) => ({ label: c.label, type: c.kind, detail: c.detail })))] }), [completions]);
  const lint = useMemo(() => linter((view) => (problems || []).map((p) => {
    const line = view.state.doc.line(Math.min(Math.max(p.line, 1), view.state.doc.lines));
    const from = Math.min(line.from + Math.max(p.column - 1, 0), line.to);
    return { from, to: Math.max(from, line.to), severity: "error", message: p.message };
  }), { delay: 0 }), [problems]);
  const language = useMemo(() => [yaml(), lintGutter()], []);
  const extensions = useMemo(() => [...language, lint, complete], [language, lint, complete]);
  return (
    <CodeMirror value={value} height={height || "100%"} extensions={extensions}
      onChange={(text) => onChange && onChange(text)} basicSetup={{ lineNumbers: true, foldGutter: true }} />
  );
}
