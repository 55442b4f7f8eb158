// Copy and paste of canvas nodes (nothing to see): Ctrl/Cmd+C with nodes selected on the canvas asks the server
// for their YAML, which it writes to the clipboard and, as a fallback, to localStorage; Ctrl/Cmd+V sends both to the
// server, which inserts the tasks. Keys typed in the YAML editor or in a field are theirs, not the canvas's.
import { useEffect } from "react";

export const CLIPBOARD_KEY = "lanner:clipboard";

function typing(target) {
  if (!target || !target.closest) return false;
  if (target.closest(".cm-editor, input, textarea, select, [contenteditable='true']")) return true;
  return Boolean(window.getSelection && String(window.getSelection()).length);  // copying page text
}

async function clipboardText() {
  try {
    return (navigator.clipboard && (await navigator.clipboard.readText())) || "";
  } catch (error) {
    return "";  // no permission (or no clipboard): the fallback alone
  }
}

export function FlowClipboard({ readOnly, onCopyNodes, onPasteNodes }) {
  useEffect(() => {
    const onKey = async (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || typing(event.target)) return;
      const key = event.key.toLowerCase();
      if (key === "c") {
        const ids = Array.from(document.querySelectorAll(".react-flow__node.selected"))
          .map((node) => node.getAttribute("data-id")).filter(Boolean);
        if (!ids.length) return;
        event.preventDefault();
        onCopyNodes && onCopyNodes({ ids });
      } else if (key === "v" && !readOnly) {
        event.preventDefault();
        const text = await clipboardText();
        onPasteNodes && onPasteNodes({ text, fallback: window.localStorage.getItem(CLIPBOARD_KEY) || "" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [readOnly, onCopyNodes, onPasteNodes]);
  return null;
}

