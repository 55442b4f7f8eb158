// The flow canvas: React Flow keeps node positions in the browser; only coarse events reach the server
// (drop, connect, delete, drag stop, select), so dragging sends nothing until the drop.
import React, { useCallback, useEffect, useMemo, useState } from "react";
import {
  ReactFlow, ReactFlowProvider, Background, Controls, MiniMap, applyNodeChanges, useReactFlow,
  MarkerType, Handle, Position,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import dagre from "@dagrejs/dagre";
import { icons } from "lucide-react";

function TaskIcon({ name, size }) {
  const Icon = icons[(name || "box").split("-").map((p) => p[0].toUpperCase() + p.slice(1)).join("")] || icons.Box;
  return <Icon size={size || 14} style={{ verticalAlign: "middle", marginRight: 4 }} />;
}

// State colours come from engine/core/palette.py as CSS variables the studio puts on :root (never hard-coded here),
// so a state looks the same on the canvas, the Gantt chart and the dashboard.
function stateColour(state) {
  return state ? `var(--lanner-state-${state.toLowerCase()}, var(--lanner-state-other))` : "var(--lanner-state-other)";
}

function TaskNode({ data, selected }) {
  const colour = stateColour(data.state);
  return (
    <div className="lanner-node" data-task-id={data.id} data-state={data.state || ""}
      style={{ border: `2px solid ${data.error ? stateColour("FAILED") : colour}`, borderRadius: 8, padding: "6px 10px",
        background: selected ? "#eef2ff" : "white", minWidth: 150, fontSize: 12 }}>
      <Handle type="target" position={Position.Top} />
      <div style={{ fontWeight: 600 }}><TaskIcon name={data.icon} />{data.id.startsWith("$") ? data.title : data.id}</div>
      <div style={{ color: "#6b7280" }}>{data.title}</div>
      {data.state ? (
        <div className="lanner-node-state" style={{ color: colour, display: "flex", gap: 6 }}>
          <span>{data.state}</span>
          {data.duration ? <span className="lanner-node-duration" style={{ color: "#6b7280" }}>{data.duration}</span> : null}
          {data.attempts ? <span className="lanner-node-attempts" style={{ color: stateColour("RETRYING") }}>{data.attempts}</span> : null}
        </div>) : null}
      {data.error ? <div className="lanner-node-error" title={data.error} style={{ color: stateColour("FAILED") }}>⚠ {data.error}</div> : null}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
}

// Nodes re-render only when what they show changes (the server sends fresh objects on every update).
const sameNode = (a, b) => a.selected === b.selected && a.data.state === b.data.state && a.data.error === b.data.error
  && a.data.icon === b.data.icon && a.data.duration === b.data.duration && a.data.attempts === b.data.attempts
  && a.data.id === b.data.id && a.data.title === b.data.title;
const nodeTypes = { task: React.memo(TaskNode, sameNode) };

// Layered layout in linear time: a node's row is its longest path from a start. dagre draws nicer
// graphs but long edges make it quadratic (4 s for 200 tasks with far-reaching dependsOn).
function quickLayout(nodes, edges) {
  const preds = Object.fromEntries(nodes.map((n) => [n.id, []]));
  edges.forEach((e) => { if (preds[e.target] && preds[e.source]) preds[e.target].push(e.source); });
  const depth = {};
  const visiting = new Set();
  const rankOf = (id) => {
    if (depth[id] !== undefined) return depth[id];
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let best = -1;
    for (const p of preds[id]) best = Math.max(best, rankOf(p));
    visiting.delete(id);
    depth[id] = best + 1;
    return depth[id];
  };
  const perRow = {};
  return Object.fromEntries(nodes.map((n) => {
    const row = rankOf(n.id);
    perRow[row] = (perRow[row] || 0) + 1;
    return [n.id, { x: (perRow[row] - 1) * 220, y: row * 110 }];
  }));
}

function layout(nodes, edges) {
  if (nodes.length > 60 || edges.length > 120) return quickLayout(nodes, edges);
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 60 });
  graph.setDefaultEdgeLabel(() => ({}));
  nodes.forEach((n) => graph.setNode(n.id, { width: 180, height: 60 }));
  edges.forEach((e) => graph.setEdge(e.source, e.target));
  dagre.layout(graph);
  return Object.fromEntries(nodes.map((n) => {
    const p = graph.node(n.id);
    return [n.id, { x: p.x - 90, y: p.y - 30 }];
  }));
}

function storedPositions(flowKey) {
  if (!flowKey || typeof window === "undefined") return {};
  try { return JSON.parse(window.localStorage.getItem(`lanner.positions.${flowKey}`) || "{}"); } catch { return {}; }
}

function Canvas({ nodes, edges, positions, readOnly, flowKey, onDropTask, onConnectTasks, onDeleteTasks,
  onDeleteEdge, onMoveTask, onSelectTask, onUndo, onRedo }) {
  const { screenToFlowPosition, fitView } = useReactFlow();
  const [local, setLocal] = useState([]);
  const structure = useMemo(() => JSON.stringify([(nodes || []).map((n) => n.id),
    (edges || []).map((e) => [e.source, e.target])]), [nodes, edges]);
  const auto = useMemo(() => layout(nodes || [], edges || []), [structure]);
  // Positions a user dragged are remembered for this flow, in this browser, never in the YAML.
  const remembered = useMemo(() => storedPositions(flowKey), [flowKey]);

  useEffect(() => {
    // Merge what the server sends (ids, labels, states) and keep the positions the browser knows.
    window.__lannerTimes = { ...(window.__lannerTimes || {}), nodes: performance.now() };
    setLocal((previous) => {
      const known = Object.fromEntries(previous.map((n) => [n.id, n]));
      return (nodes || []).map((n) => ({
        id: n.id, type: "task", data: n,
        position: known[n.id]?.position || remembered[n.id] || (positions || {})[n.id] || auto[n.id] || { x: 0, y: 0 },
        draggable: !readOnly, connectable: !readOnly,
      }));
    });
  }, [nodes, positions, auto, readOnly, remembered]);

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

  useEffect(() => { const t = setTimeout(() => fitView({ padding: 0.2, maxZoom: 1.1 }), 50); return () => clearTimeout(t); },
    [(nodes || []).length]);

  const flowEdges = useMemo(() => (edges || []).map((e) => ({
    id: `${e.source}->${e.target}`, source: e.source, target: e.target, label: e.label || undefined,
    animated: e.relation === "dependency", markerEnd: { type: MarkerType.ArrowClosed },
    style: e.relation === "error" ? { stroke: stateColour("FAILED"), strokeDasharray: "4 2" } : undefined,
    data: e, deletable: !readOnly && e.relation === "dependency",
  })), [edges, readOnly]);

  const onNodesChange = useCallback((changes) => setLocal((n) => applyNodeChanges(changes, n)), []);
  const onDragOver = useCallback((event) => { event.preventDefault(); event.dataTransfer.dropEffect = "move"; }, []);
  const onDrop = useCallback((event) => {
    event.preventDefault();
    const type = event.dataTransfer.getData("application/lanner-task");
    if (!type || readOnly) return;
    window.__lannerTimes = { ...(window.__lannerTimes || {}), drop: performance.now() };  // for bench/editor.py
    const position = screenToFlowPosition({ x: event.clientX, y: event.clientY });
    const under = event.target.closest && event.target.closest(".react-flow__node");
    const parent = under ? under.getAttribute("data-id") : "";
    onDropTask && onDropTask({ type, x: position.x, y: position.y, parent });
  }, [screenToFlowPosition, onDropTask, readOnly]);

  return (
    <ReactFlow nodes={local} edges={flowEdges} nodeTypes={nodeTypes} onNodesChange={onNodesChange}
      onConnect={(c) => onConnectTasks && onConnectTasks({ source: c.source, target: c.target })}
      onNodesDelete={(deleted) => onDeleteTasks && onDeleteTasks({ ids: deleted.map((n) => n.id) })}
      onEdgesDelete={(deleted) => deleted.forEach((e) => onDeleteEdge && onDeleteEdge({ source: e.source, target: e.target }))}
      onNodeDragStop={(_, node) => {
        if (flowKey) {
          const saved = storedPositions(flowKey);
          saved[node.id] = node.position;
          window.localStorage.setItem(`lanner.positions.${flowKey}`, JSON.stringify(saved));
        }
        onMoveTask && onMoveTask({ id: node.id, x: node.position.x, y: node.position.y });
      }}
      onNodeClick={(_, node) => onSelectTask && onSelectTask({ id: node.id })}
      onDrop={onDrop} onDragOver={onDragOver} deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]}
      fitView fitViewOptions={{ padding: 0.2, maxZoom: 1.1 }}>
      <Background />
      <Controls />
      <MiniMap pannable zoomable />
    </ReactFlow>
  );
}

export function FlowCanvas(props) {
  return (
    <div style={{ width: "100%", height: "100%" }} className="lanner-canvas">
      <ReactFlowProvider><Canvas {...props} /></ReactFlowProvider>
    </div>
  );
}

export function TaskPalette({ items }) {
  let group = null;
  const rows = [];
  (items || []).forEach((entry) => {
    if (entry.group !== group) {
      group = entry.group;
      rows.push(<div key={`g-${group}`} className="palette-group" style={{ fontSize: 11, color: "#6b7280",
        textTransform: "uppercase", marginTop: 8 }}>{group}</div>);
    }
    rows.push(
      <div key={entry.type} className="palette-item" data-type={entry.type} draggable
        onDragStart={(event) => { event.dataTransfer.setData("application/lanner-task", entry.type);
          event.dataTransfer.effectAllowed = "move"; }}
        title={entry.summary}
        style={{ border: "1px solid #e5e7eb", borderRadius: 6, padding: 6, margin: "4px 0", cursor: "grab",
          background: "white", fontSize: 12 }}>
        <div style={{ fontWeight: 600 }}><TaskIcon name={entry.icon} />{entry.title}</div>
        <div style={{ color: "#6b7280" }}>{entry.summary}</div>
      </div>);
  });
  return <div className="lanner-palette">{rows}</div>;
}
