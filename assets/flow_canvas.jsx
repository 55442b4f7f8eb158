// The flow canvas: React Flow keeps node positions in the browser; only coarse events reach the server
// (drop, connect, delete, drag stop, select), so dragging sends nothing until the drop.
import React, { useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { ColorModeContext } from "$/utils/context-registry";
import {
  ReactFlow, ReactFlowProvider, Background, ControlButton, Controls, MiniMap, applyNodeChanges, useReactFlow,
  MarkerType, Handle, Position, useStore,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { icons } from "lucide-react";
import {
  GROUP_HEADER, NODE_HEIGHT, NODE_WIDTH, absolutePositions, boundsOf, fitGroups, inDropZone, layout, neighbour,
  placeNew, spotBelow,
} from "./flow_layout.js";

function TaskIcon({ name, size }) {
  const Icon = icons[(name || "box").split("-").map((p) => p[0].toUpperCase() + p.slice(1)).join("")] || icons.Box;
  return <Icon size={size || 14} style={{ display: "inline-block", verticalAlign: "middle", marginRight: 4 }} aria-hidden="true" />;
}

// State colours come from engine/core/palette.py as CSS variables the studio puts on :root (never hard-coded here),
// so a state looks the same on the canvas, the Gantt chart and the dashboard.
function stateColour(state) {
  return state ? `var(--lanner-state-${state.toLowerCase()}, var(--lanner-state-other))` : "var(--lanner-state-other)";
}

const LIVE = new Set(["RUNNING", "RETRYING"]);

// Zoomed far out (a big flow fitted in view) a node is a plain box of its state's colour: hundreds of names and
// icons too small to read cost more to draw than they tell. The selector changes only when the threshold is crossed.
const FAR = 0.3;
const farAway = (s) => s.transform[2] < FAR;

function TaskNode({ data, selected }) {
  const colour = stateColour(data.state);
  const far = useStore(farAway);
  if (far) {
    return (
      <div className="lanner-node lanner-node-far" data-task-id={data.id} data-state={data.state || ""} title={data.id}
        style={{ width: 170, height: 48, borderRadius: 8, border: `2px solid ${data.error ? stateColour("FAILED") : colour}`,
          background: selected ? "var(--accent-5)" : "var(--gray-4)" }}>
        <Handle type="target" position={Position.Top} />
        <Handle type="source" position={Position.Bottom} />
      </div>);
  }
  return (
    <div className="lanner-node" data-task-id={data.id} data-state={data.state || ""}
      style={{ border: `2px solid ${data.error ? stateColour("FAILED") : colour}`, borderRadius: 8, padding: "6px 10px",
        background: selected ? "var(--accent-3)" : "var(--color-panel-solid)", color: "var(--gray-12)",
        width: NODE_WIDTH, boxSizing: "border-box", fontSize: 12 }}>
      <Handle type="target" position={Position.Top} />
      <div style={{ fontWeight: 600, ...ONE_LINE }}><TaskIcon name={data.icon} />{nameOf(data)}</div>
      <div style={{ color: "var(--gray-11)", ...ONE_LINE }}>{data.title}</div>
      <StatusLine data={data} colour={colour} />
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
}

// Every line of a node is one line, shortened with an ellipsis: a task is NODE_WIDTH wide and at most three lines
// high whatever it shows, as the layout and the group boxes count it (the full text is in the title).
const ONE_LINE = { whiteSpace: "nowrap", overflow: "hidden", textOverflow: "ellipsis" };
const nameOf = (data) => (data.id.startsWith("$") ? data.title : data.id);

// A run's state, duration and attempts, and a problem's message, on one line.
function StatusLine({ data, colour }) {
  if (!data.state && !data.error) return null;
  return (
    <div style={{ display: "flex", gap: 6, whiteSpace: "nowrap", minWidth: 0 }}>
      {data.state ? (
        <span className="lanner-node-state" style={{ color: colour, display: "flex", gap: 6 }}>
          <span>{data.state}</span>
          {data.duration ? <span className="lanner-node-duration" style={{ color: "var(--gray-11)" }}>{data.duration}</span> : null}
          {data.attempts ? <span className="lanner-node-attempts" style={{ color: stateColour("RETRYING") }}>{data.attempts}</span> : null}
        </span>) : null}
      {data.error ? (
        <span className="lanner-node-error" title={data.error} style={{ color: stateColour("FAILED"), minWidth: 0, ...ONE_LINE }}>
          ⚠ {data.error}
        </span>) : null}
    </div>
  );
}

// A flowable task (parallel, if, switch, foreach, ...; the errors and finally lists) is a box holding its tasks:
// React Flow draws its children inside it (parentId) and its size comes from them (flow_layout.js fitGroups).
// Edges into its first children start under its header (the "inner" handle); the edge to what runs after the
// group leaves from the bottom of the box.
function GroupNode({ data, selected }) {
  const colour = stateColour(data.state);
  const far = useStore(farAway);
  return (
    <div className="lanner-node lanner-group" data-task-id={data.id} data-state={data.state || ""} title={far ? data.id : undefined}
      style={{ width: "100%", height: "100%", boxSizing: "border-box", borderRadius: 10, fontSize: 12,
        border: `2px solid ${data.error ? stateColour("FAILED") : colour}`, color: "var(--gray-12)",
        background: selected ? "var(--accent-a3)" : "var(--gray-a2)" }}>
      <Handle type="target" position={Position.Top} />
      {far ? null : (
        <div className="lanner-group-header" style={{ height: GROUP_HEADER, padding: "5px 10px", boxSizing: "border-box",
          borderBottom: "1px solid var(--gray-a5)", background: selected ? "var(--accent-3)" : "var(--color-panel-solid)",
          borderRadius: "8px 8px 0 0" }}>
          <div style={ONE_LINE}>
            <TaskIcon name={data.icon} /><span style={{ fontWeight: 600 }}>{nameOf(data)}</span>
            {data.id.startsWith("$") ? null : <span style={{ color: "var(--gray-11)" }}> · {data.title}</span>}
          </div>
          <StatusLine data={data} colour={colour} />
        </div>)}
      <Handle type="source" position={Position.Bottom} />
      <Handle type="source" position={Position.Bottom} id="inner" isConnectable={false}
        style={{ top: GROUP_HEADER, bottom: "auto", opacity: 0 }} />
    </div>
  );
}

// Nodes re-render only when what they show changes (the server sends fresh objects on every update).
const sameData = (a, b) => a.state === b.state && a.error === b.error && a.icon === b.icon && a.duration === b.duration
  && a.attempts === b.attempts && a.id === b.id && a.title === b.title;
const sameNode = (a, b) => a.selected === b.selected && sameData(a.data, b.data);
const nodeTypes = { task: React.memo(TaskNode, sameNode), taskGroup: React.memo(GroupNode, sameNode) };
const typeOf = (n) => (n.kind === "group" ? "taskGroup" : "task");

const BIG = 150;  // from this many nodes on, only what is in view is drawn
// Where a node's handles are until React Flow has measured it. React Flow draws every node it has not measured
// (to measure it), even off screen: a 1,000-task flow's first render drew all 1,000. With a guess it draws only
// those in view; the guess goes once the node is measured (keptMeasured), or it would hide the real places.
const GUESSED_HANDLES = [
  { type: "target", position: Position.Top, x: NODE_WIDTH / 2 - 3, y: -3, width: 6, height: 6 },
  { type: "source", position: Position.Bottom, x: NODE_WIDTH / 2 - 3, y: NODE_HEIGHT - 3, width: 6, height: 6 },
];
function keptMeasured(nodes, changes) {
  const measured = new Set(changes.filter((c) => c.type === "dimensions").map((c) => c.id));
  if (!measured.size) return nodes;
  return nodes.map((n) => {
    if (!n.handles || !measured.has(n.id)) return n;
    const { handles, ...rest } = n;
    return rest;
  });
}
const FIT = { padding: 0.1, maxZoom: 1.1 };
const positionsKey = (flowKey) => `lanner.positions.${flowKey}`;

// Version 2: a group's children are remembered relative to their group's box (version 1 had them in the flow's
// coordinates, which would put them far outside their boxes: such a drawing is laid out afresh).
const POSITIONS_VERSION = 2;

function storedPositions(flowKey) {
  if (!flowKey || typeof window === "undefined") return {};
  try {
    const stored = JSON.parse(window.localStorage.getItem(positionsKey(flowKey)) || "{}");
    return stored.version === POSITIONS_VERSION ? stored.positions || {} : {};
  } catch { return {}; }
}

// Positions are remembered for this flow, in this browser, never in the YAML: every node's (a group's child's
// relative to its group), once the person has changed the drawing (drag, drop), so a reload shows it as they left
// it. Group boxes are not stored: they are sized to fit their children (fitGroups).
function remember(flowKey, nodes) {
  if (!flowKey) return;
  const positions = Object.fromEntries(nodes.map((n) => [n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) }]));
  try {
    window.localStorage.setItem(positionsKey(flowKey), JSON.stringify({ version: POSITIONS_VERSION, positions }));
  } catch { /* storage full: forget */ }
}

// A node of the canvas for the server's node ``n``: a group is a box, a child lives in its parent's box (React Flow
// keeps it there while dragged and grows the box when it is pushed against an edge).
function flowNode(n, position, readOnly) {
  const node = { id: n.id, type: typeOf(n), data: n, position, draggable: !readOnly,
    connectable: !readOnly, ariaLabel: `${n.id}: ${n.title}` };
  if (n.kind !== "group") Object.assign(node, { initialWidth: NODE_WIDTH, initialHeight: NODE_HEIGHT, handles: GUESSED_HANDLES });
  if (n.parent) Object.assign(node, { parentId: n.parent, extent: "parent", expandParent: true });
  return node;
}

// The minimap draws group boxes lighter than the tasks drawn on them.
const minimapColour = (node) => (node.type === "taskGroup" ? "var(--gray-5)" : "var(--gray-8)");

function useMinimap(count) {
  const [open, setOpen] = useState(null);
  useEffect(() => { setOpen(window.localStorage.getItem("lanner:minimap")); }, []);
  const shown = open === null ? count <= 300 : open === "open";  // a big flow's minimap costs frames while dragging
  const toggle = useCallback(() => {
    const next = shown ? "closed" : "open";
    window.localStorage.setItem("lanner:minimap", next);
    setOpen(next);
  }, [shown]);
  return [shown, toggle];
}

function Canvas({ nodes, edges, positions, readOnly, flowKey, onDropTask, onConnectTasks, onDeleteTasks,
  onDeleteEdge, onMoveTask, onSelectTask, onFocusTask, onOpenTask, onUndo, onRedo }) {
  const { screenToFlowPosition, fitBounds, getViewport, setCenter, getInternalNode } = useReactFlow();
  // React Flow marks its container .light unless told, and Radix's colour scales follow that class: in the dark
  // theme the nodes' text would stay the light theme's near-black.
  const colorMode = useContext(ColorModeContext).resolvedColorMode === "dark" ? "dark" : "light";
  const [local, setLocal] = useState([]);
  const [dragging, setDragging] = useState(false);  // a palette item over the canvas: the minimap lets it through
  const fitted = useRef("");
  const [ready, setReady] = useState(false);  // React Flow's viewport answers only after onInit
  const onInit = useCallback(() => setReady(true), []);
  const initialFit = useRef(true);
  const shownKey = useRef(flowKey);
  const list = nodes || [];
  const links = edges || [];
  // What the layout depends on: which nodes, in which groups, and the edges between them.
  const structure = useMemo(() => JSON.stringify([list.map((n) => [n.id, n.parent, n.kind]),
    links.map((e) => [e.source, e.target])]), [nodes, edges]);
  // The whole flow's layout, made only when a node has no place of its own (a flow opened for the first time, a
  // node typed in the YAML): after a drop or a connect on a 1,000-task flow it took 15-35 ms for nothing.
  const autoLayout = useMemo(() => { let made = null; return () => (made = made || layout(list, links)); }, [structure]);
  const [minimap, toggleMinimap] = useMinimap(list.length);

  useEffect(() => {  // when the nodes last came from the server, for bench/editor.py
    window.__lannerTimes = { ...(window.__lannerTimes || {}), nodes: performance.now() };
  }, [nodes]);
  useEffect(() => {
    // Merge what the server sends (ids, labels, states) and keep the positions the browser knows; a node that did
    // not change keeps its object, so React Flow redraws only what changed.
    setLocal((shown) => {
      const previous = shownKey.current === flowKey ? shown : [];  // another flow opened: nothing of the last one
      shownKey.current = flowKey;
      const known = new Map(previous.map((n) => [n.id, n]));
      const remembered = previous.length ? {} : storedPositions(flowKey);
      const opening = !previous.length;
      const laidOut = opening && !Object.keys(remembered).length;
      const created = new Set();  // nodes new in this update: a child of a new group takes the layout's spot
      const next = [];
      let levels = null;  // built only when a node needs a spot: each level's placed nodes, and what each waits for
      const place = (node) => {
        const parent = node.parentId || "";
        if (!levels.siblings.has(parent)) levels.siblings.set(parent, []);
        levels.siblings.get(parent).push(node);
        levels.byId.set(node.id, node);
      };
      const spotFor = (n, parent) => {
        if (!levels) {
          levels = { siblings: new Map(), byId: new Map(), incoming: new Map() };
          previous.forEach(place);
          next.filter((node) => created.has(node.id)).forEach(place);
          links.forEach((e) => {
            if (!levels.incoming.has(e.target)) levels.incoming.set(e.target, []);
            levels.incoming.get(e.target).push(e.source);
          });
        }
        const anchors = (levels.incoming.get(n.id) || []).map((id) => levels.byId.get(id))
          .filter((node) => node && (node.parentId || "") === parent);
        return placeNew(anchors, levels.siblings.get(parent) || [], Boolean(parent));
      };
      let added = false;
      list.forEach((n) => {
        const old = known.get(n.id);
        if (old && (old.parentId || "") === (n.parent || "") && old.type === typeOf(n)) {
          next.push(sameData(old.data, n) && old.draggable === !readOnly ? old
            : { ...old, data: n, draggable: !readOnly, connectable: !readOnly });
          return;
        }
        added = added || !opening;
        const parent = n.parent || "";
        // A node that changed groups (typed in the YAML) starts afresh: what was remembered was in its old box.
        const kept = old ? null : remembered[n.id] || (positions || {})[n.id];
        const position = kept
          || (laidOut || created.has(parent) ? autoLayout()[n.id] : spotFor(n, parent))
          || autoLayout()[n.id] || { x: 0, y: 0 };
        const node = flowNode(n, position, readOnly);
        created.add(n.id);
        if (levels) place(node);
        next.push(node);
      });
      const fitted = fitGroups(next);
      if (added && !readOnly) remember(flowKey, fitted);
      const unchanged = fitted.length === previous.length && fitted.every((n, i) => n === previous[i]);
      return unchanged ? shown : fitted;
    });
  }, [nodes, positions, autoLayout, readOnly, flowKey]);

  // The whole flow in view when it opens (without waiting for every node to be measured: big flows draw only
  // what is in view), and again after a tidy-up.
  const fit = useCallback((current) => {
    const bounds = boundsOf(current);
    if (bounds) Promise.resolve(fitBounds(bounds, { padding: FIT.padding })).then(() => {
      const { zoom } = getViewport();
      if (zoom > FIT.maxZoom) setCenter(bounds.x + bounds.width / 2, bounds.y + bounds.height / 2, { zoom: FIT.maxZoom });
    });
  }, [fitBounds, getViewport, setCenter]);
  useEffect(() => {
    if (!ready || !local.length || fitted.current === flowKey) return;
    fitted.current = flowKey;
    const first = initialFit.current;
    initialFit.current = false;
    if (first && local.length < BIG) return;  // React Flow's fitView did it, once the nodes were measured
    const t = setTimeout(() => fit(local), 30);
    return () => clearTimeout(t);
  }, [ready, local, flowKey, fit]);

  // "Tidy up" (a toolbar button sends the event): lay the flow out again and forget the remembered positions.
  useEffect(() => {
    const tidy = () => {
      if (flowKey) window.localStorage.removeItem(positionsKey(flowKey));
      const fresh = layout(list, links);
      setLocal((previous) => {
        const next = fitGroups(previous.map((n) => ({ ...n, position: fresh[n.id] || n.position })));
        setTimeout(() => fit(next), 30);
        return next;
      });
    };
    window.addEventListener("lanner:tidy", tidy);
    return () => window.removeEventListener("lanner:tidy", tidy);
  }, [structure, flowKey, fit]);

  useEffect(() => {
    const onKey = (event) => {
      if (readOnly || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z") return;
      if (event.target.closest && event.target.closest(".cm-editor")) return;  // the YAML editor has its own undo
      event.preventDefault();
      if (event.shiftKey) { onRedo && onRedo({}); } else { onUndo && onUndo({}); }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [readOnly, onUndo, onRedo]);

  // Edges move only on the path a live run is taking: into the tasks running now. An animated edge redraws
  // every frame, and hundreds of them took the idle page down to 5 frames a second.
  const live = useMemo(() => list.filter((n) => LIVE.has(n.state)).map((n) => n.id).join(" "), [nodes]);
  const edgeKey = useMemo(() => JSON.stringify(links.map((e) => [e.source, e.target, e.relation, e.label])), [edges]);
  const parents = useMemo(() => new Map(list.map((n) => [n.id, n.parent || ""])), [structure]);
  const drawnEdges = useRef(new Map());  // by id: an edge that did not change keeps its object (no redraw)
  const flowEdges = useMemo(() => {
    const running = new Set(live.split(" "));
    // An edge from a group into its own children starts under the group's header, inside its box.
    const inner = (e) => parents.get(e.target) === e.source;
    const drawn = new Map();
    const result = links.map((e) => {
      const id = `${e.source}->${e.target}`;
      const animated = running.has(e.target);
      const deletable = !readOnly && e.relation === "dependency";
      const old = drawnEdges.current.get(id);
      const edge = old && old.animated === animated && old.deletable === deletable && old.data.relation === e.relation
        && old.data.label === e.label && old.sourceHandle === (inner(e) ? "inner" : undefined) ? old : {
          id, source: e.source, target: e.target, sourceHandle: inner(e) ? "inner" : undefined,
          label: e.label || undefined, animated,
          markerEnd: { type: MarkerType.ArrowClosed },
          style: e.relation === "error" ? { stroke: stateColour("FAILED"), strokeDasharray: "4 2" } : undefined,
          data: e, deletable,
        };
      drawn.set(id, edge);
      return edge;
    });
    drawnEdges.current = drawn;
    return result;
  }, [edgeKey, readOnly, live, parents]);

  const onNodesChange = useCallback((changes) => setLocal((n) => keptMeasured(applyNodeChanges(changes, n), changes)), []);
  const onDragOver = useCallback((event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    setDragging(true);
  }, []);
  const onDragLeave = useCallback(() => setDragging(false), []);
  const onDrop = useCallback((event) => {
    event.preventDefault();
    setDragging(false);
    const type = event.dataTransfer.getData("application/lanner-task");
    if (!type || readOnly) return;
    window.__lannerTimes = { ...(window.__lannerTimes || {}), drop: performance.now() };  // for bench/editor.py
    const point = screenToFlowPosition({ x: event.clientX, y: event.clientY });
    // Onto a group's box (or one of its tasks): into that group. A plain top-level task under the pointer is named
    // too (the server adds the task to the flow's list).
    const under = event.target.closest && event.target.closest(".react-flow__node");
    const hit = under && local.find((n) => n.id === under.getAttribute("data-id"));
    const parent = !hit ? "" : hit.type === "taskGroup" || !hit.parentId ? hit.id : hit.parentId;
    const box = parent && local.find((n) => n.id === parent)?.type === "taskGroup" ? getInternalNode(parent) : null;
    const origin = box ? box.internals.positionAbsolute : { x: 0, y: 0 };
    const inLevel = { x: point.x - origin.x, y: point.y - origin.y };  // the coordinates of the level it lands in
    // Dropped just under the selected node (or the level's last one): it runs after that one, one row below it.
    const level = (n) => (n.parentId || "") === (box ? parent : "");
    const siblings = local.filter(level);
    const candidates = [...siblings.filter((n) => n.selected), siblings[siblings.length - 1]].filter(Boolean);
    const anchor = (box || !parent) && candidates.find((n) => inDropZone(inLevel, n));
    const at = anchor ? spotBelow(anchor, siblings) : inLevel;
    onDropTask && onDropTask({ type, x: at.x, y: at.y, parent: anchor ? "" : parent, after: anchor ? anchor.id : "" });
  }, [screenToFlowPosition, getInternalNode, onDropTask, readOnly, local]);

  const onConnect = useCallback((c) => onConnectTasks && onConnectTasks({ source: c.source, target: c.target }),
    [onConnectTasks]);
  // React Flow deletes a group's children with it; the YAML loses them with their group, so only the group is sent.
  const onNodesDelete = useCallback((deleted) => {
    const gone = new Set(deleted.map((n) => n.id));
    const ids = deleted.filter((n) => !gone.has(n.parentId)).map((n) => n.id);
    if (ids.length && onDeleteTasks) onDeleteTasks({ ids });
  }, [onDeleteTasks]);
  const onEdgesDelete = useCallback((deleted) => deleted.forEach((e) => onDeleteEdge
    && onDeleteEdge({ source: e.source, target: e.target })), [onDeleteEdge]);
  const onNodeDragStop = useCallback((_, node) => {
    setLocal((current) => {
      const fitted = fitGroups(current);  // a box fits its children where they were left
      if (!readOnly) remember(flowKey, fitted);
      return fitted;
    });
    onMoveTask && onMoveTask({ id: node.id, x: node.position.x, y: node.position.y });
  }, [flowKey, onMoveTask, readOnly]);
  const onNodeClick = useCallback((_, node) => onSelectTask && onSelectTask({ id: node.id }), [onSelectTask]);

  // Keyboard: Tab reaches the nodes (React Flow makes them focusable), a focused node is the selected one, arrow
  // keys move the selection to the nearest node that way, Enter opens its form.
  const select = useCallback((id) => {
    setLocal((current) => current.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })));
    onFocusTask && onFocusTask({ id });
  }, [onFocusTask]);
  const focusNode = useCallback((target) => {
    const element = () => document.querySelector(`.react-flow__node[data-id="${CSS.escape(target.id)}"]`);
    if (element()) { element().focus(); return; }
    setCenter(target.position.x + NODE_WIDTH / 2, target.position.y + NODE_HEIGHT / 2,
      { zoom: Math.max(getViewport().zoom, 0.6) });
    setTimeout(() => element() && element().focus(), 80);  // drawn once in view (big flows draw only that)
  }, [setCenter, getViewport]);
  const onFocus = useCallback((event) => {
    const element = event.target.closest && event.target.closest(".react-flow__node");
    const id = element && element.getAttribute("data-id");
    // Only keyboard focus selects: a click focuses the node too, and selects it through onNodeClick.
    if (id && element.matches(":focus-visible") && !local.find((n) => n.id === id)?.selected) select(id);
  }, [local, select]);
  const onKeyDown = useCallback((event) => {
    const element = event.target.closest && event.target.closest(".react-flow__node");
    const current = element && local.find((n) => n.id === element.getAttribute("data-id"));
    if (!current) return;
    if (event.key === "Enter") {
      event.preventDefault();
      onOpenTask && onOpenTask({ id: current.id });
    } else if (event.key.startsWith("Arrow")) {
      event.preventDefault();
      const at = absolutePositions(local);  // a child's position is its group's plus its own
      const placed = local.map((n) => ({ id: n.id, position: at[n.id] }));
      const next = neighbour({ id: current.id, position: at[current.id] }, placed, event.key);
      if (next) focusNode(next);
    }
  }, [local, onOpenTask, focusNode]);

  return (
    <div style={{ width: "100%", height: "100%" }} className={dragging ? "lanner-canvas lanner-dropping" : "lanner-canvas"}
      onFocus={onFocus} onKeyDown={onKeyDown}>
      <ReactFlow colorMode={colorMode} nodes={local} edges={flowEdges} nodeTypes={nodeTypes} onNodesChange={onNodesChange}
        onConnect={onConnect} onNodesDelete={onNodesDelete} onEdgesDelete={onEdgesDelete}
        onNodeDragStop={onNodeDragStop} onNodeClick={onNodeClick}
        onDrop={onDrop} onDragOver={onDragOver} onDragLeave={onDragLeave}
        deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]} disableKeyboardA11y
        onlyRenderVisibleElements={list.length >= BIG} minZoom={0.02} maxZoom={2} onInit={onInit}
        fitView={list.length < BIG} fitViewOptions={FIT}>
        <Background />
        <Controls>
          <ControlButton id="minimap-toggle" onClick={toggleMinimap} aria-pressed={minimap}
            title={minimap ? "Hide the minimap" : "Show the minimap"} aria-label={minimap ? "Hide the minimap" : "Show the minimap"}>
            <TaskIcon name="map" size={12} />
          </ControlButton>
        </Controls>
        {minimap ? (
          <MiniMap pannable zoomable style={{ width: 140, height: 90 }} className="lanner-minimap"
            nodeColor={minimapColour} maskColor="var(--black-a3)" />) : null}
      </ReactFlow>
    </div>
  );
}

// While a palette item is dragged over the canvas the minimap lets it through: a drop is never refused there.
const STYLE = `.lanner-dropping .react-flow__minimap { pointer-events: none; opacity: 0.3; }
.react-flow__node:focus-visible { outline: 2px solid var(--accent-9); outline-offset: 2px; border-radius: 8px; }`;

export function FlowCanvas(props) {
  return <ReactFlowProvider><style>{STYLE}</style><Canvas {...props} /></ReactFlowProvider>;
}

// Tab reaches every item; Enter (or Space) adds the task after the selected node, as a drop under it would.
export function TaskPalette({ items, collapsed, onAddTask }) {
  let group = null;
  const rows = [];
  (items || []).forEach((entry) => {
    if (entry.group !== group && !collapsed) {
      group = entry.group;
      rows.push(<div key={`g-${group}`} className="palette-group" style={{ fontSize: 11, color: "var(--gray-11)",
        textTransform: "uppercase", marginTop: 8 }}>{group}</div>);
    }
    rows.push(
      <div key={entry.type} className="palette-item" data-type={entry.type} draggable tabIndex={0} role="button"
        aria-label={`Add ${entry.title}: ${entry.summary}`}
        onDragStart={(event) => { event.dataTransfer.setData("application/lanner-task", entry.type);
          event.dataTransfer.effectAllowed = "move"; }}
        onKeyDown={(event) => {
          if (event.key !== "Enter" && event.key !== " ") return;
          event.preventDefault();
          onAddTask && onAddTask({ type: entry.type });
        }}
        title={collapsed ? `${entry.title}: ${entry.summary}` : entry.summary}
        style={{ border: "1px solid var(--gray-6)", borderRadius: 6, padding: collapsed ? "6px 0" : 6, margin: "4px 0",
          cursor: "grab", background: "var(--color-panel-solid)", color: "var(--gray-12)", fontSize: 12,
          textAlign: collapsed ? "center" : "left" }}>
        {collapsed ? <TaskIcon name={entry.icon} size={18} /> : (
          <>
            <div style={{ fontWeight: 600 }}><TaskIcon name={entry.icon} />{entry.title}</div>
            <div style={{ color: "var(--gray-11)" }}>{entry.summary}</div>
          </>)}
      </div>);
  });
  return <div className={collapsed ? "lanner-palette lanner-palette-collapsed" : "lanner-palette"}>{rows}</div>;
}
