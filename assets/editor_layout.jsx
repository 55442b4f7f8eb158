// The editor's bottom drawer (the run's logs): drag its top edge to resize it; the height is remembered.
import React, { useEffect } from "react";

export function DrawerSplitter({ target, storageKey }) {
  useEffect(() => {
    const saved = window.localStorage.getItem(storageKey);
    const element = document.getElementById(target);
    if (saved && element) element.style.height = saved;
  }, [target, storageKey]);
  const onPointerDown = (event) => {
    event.preventDefault();
    const body = document.getElementById(target);
    if (!body) return;
    const startY = event.clientY;
    const startHeight = body.getBoundingClientRect().height;
    const move = (e) => {
      const height = Math.max(60, Math.min(window.innerHeight * 0.7, startHeight - (e.clientY - startY)));
      body.style.height = `${Math.round(height)}px`;
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.localStorage.setItem(storageKey, body.style.height);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };
  return (
    <div id="drawer-splitter" role="separator" aria-orientation="horizontal" title="Drag to resize the logs"
      onPointerDown={onPointerDown}
      style={{ height: 6, cursor: "row-resize", background: "var(--gray-4)", borderRadius: 3, width: "100%" }} />
  );
}
