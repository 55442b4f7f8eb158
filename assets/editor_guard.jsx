// The editor's safety net: a prompt before leaving with unsaved changes by any route, and Ctrl+S / Cmd+S saving.
// In-app routes (links, rx.redirect, browser Back and Forward inside the app) go through React Router, whose
// blocker holds the navigation until the person answers; reload, close and leaving the app ask through the
// browser's own beforeunload prompt.
import { useEffect, useRef } from "react";
import { useBlocker } from "react-router";

const QUESTION = "You have unsaved changes in this flow. Leave the editor and lose them?";

export function EditorGuard({ dirty, onSave }) {
  const blocker = useBlocker(({ currentLocation, nextLocation }) => Boolean(dirty)
    && (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search));
  useEffect(() => {
    if (blocker.state !== "blocked") return;
    if (window.confirm(QUESTION)) blocker.proceed();
    else blocker.reset();
  }, [blocker]);

  useEffect(() => {
    if (!dirty) return undefined;
    const guard = (event) => { event.preventDefault(); event.returnValue = ""; };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);

  // Ctrl+S anywhere in the editor. Inside the YAML editor its own binding saves the text as typed (its changes
  // reach the server only after a pause); a form field is left first, so the edit in it is written before saving.
  const save = useRef(onSave);
  save.current = onSave;
  useEffect(() => {
    const onKey = (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.key.toLowerCase() !== "s") return;
      event.preventDefault();  // never the browser's "Save page as"
      if (event.target instanceof Element && event.target.closest("#yaml-editor")) return;
      const active = document.activeElement;
      if (active instanceof HTMLElement && active !== document.body) active.blur();
      setTimeout(() => save.current && save.current({}), 0);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return null;
}
