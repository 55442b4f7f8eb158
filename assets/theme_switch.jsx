// The studio's theme switch (System / Light / Dark). Reflex keeps the chosen mode in localStorage ("theme") and
// applies it before the page paints; the person's saved choice (server side) is applied when it arrives, so a
// new browser signed in as the same person takes their theme.
import React, { useContext, useEffect } from "react";
import { ColorModeContext } from "$/utils/context-registry";

const CHOICES = [["system", "System"], ["light", "Light"], ["dark", "Dark"]];

export function ThemeSwitch({ saved, onChoose }) {
  const { rawColorMode, setColorMode } = useContext(ColorModeContext);
  useEffect(() => { if (saved && saved !== rawColorMode) setColorMode(saved); }, [saved]);
  const choose = (event) => {
    const mode = event.target.value;
    setColorMode(mode);
    if (onChoose) onChoose(mode);
  };
  return (
    <div style={{ display: "flex", alignItems: "center", gap: 8, fontSize: 13 }}>
      <label htmlFor="theme-select" style={{ color: "var(--gray-11)" }}>Theme</label>
      <select id="theme-select" value={rawColorMode || "system"} onChange={choose}
        style={{ flex: 1, fontSize: 13, padding: "2px 4px", borderRadius: 4, border: "1px solid var(--gray-7)",
          background: "var(--color-panel-solid)", color: "var(--gray-12)" }}>
        {CHOICES.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
    </div>
  );
}
