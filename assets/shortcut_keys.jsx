// "?" anywhere on a page (but not while typing in a field or an editor) opens the keyboard shortcut help.
import { useEffect } from "react";

const typing = (target) => target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));

export function ShortcutKeys({ onHelp }) {
  useEffect(() => {
    const listen = (event) => {
      if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      event.preventDefault();
      if (onHelp) onHelp();
    };
    window.addEventListener("keydown", listen);
    return () => window.removeEventListener("keydown", listen);
  }, [onHelp]);
  return null;
}
