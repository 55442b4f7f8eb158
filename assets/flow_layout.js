// Where the canvas puts nodes: a layered layout for a whole flow (each group a box its tasks are laid out in), the
// size of each box, a spot for one new node after the ones it waits for, and the neighbour an arrow key moves the
// selection to. Plain functions of positions, no React.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 60;
// A group (a flowable task) is a box holding its children: a header with its name and state, then its tasks.
export const GROUP_HEADER = 48;
export const GROUP_PAD = 20;
const GROUP_TOP = GROUP_HEADER + 36;  // where a box's tasks start: room for the edges from under its header
const ROW = 110;
const COLUMN = 220;
const ROW_GAP = ROW - NODE_HEIGHT;
const COLUMN_GAP = COLUMN - NODE_WIDTH;

// The size of a group box whose children reach ``right`` and ``bottom`` (relative to the box): the layout and the
// refit after a drag use this one rule, so a box is the same size after a reload as when it was drawn.
function boxAround(right, bottom) {
  return { width: Math.max(NODE_WIDTH, right + GROUP_PAD), height: Math.max(GROUP_HEADER + GROUP_PAD, bottom + GROUP_PAD) };
}

function predecessorsOf(nodes, edges) {
  const preds = Object.fromEntries(nodes.map((n) => [n.id, []]));
  edges.forEach((e) => { if (preds[e.target] && preds[e.source]) preds[e.target].push(e.source); });
  return preds;
}

// Layered layout in n log n: a node's row is its longest path from a start (iteratively, no recursion limit);
// in each row nodes are ordered by the mean centre of what they wait for, so a node sits under what it waits for.
// dagre draws nicer graphs but long edges make it quadratic (4 s for 200 tasks with far-reaching dependsOn).
function quickLayout(nodes, edges, sizeOf) {
  const preds = predecessorsOf(nodes, edges);
  const rank = {};
  const state = {};
  nodes.forEach((start) => {
    if (rank[start.id] !== undefined) return;
    const stack = [start.id];
    while (stack.length) {
      const id = stack[stack.length - 1];
      if (state[id] === undefined) {
        state[id] = "open";
        preds[id].forEach((p) => { if (state[p] === undefined) stack.push(p); });
        continue;
      }
      stack.pop();
      if (rank[id] !== undefined) continue;
      let best = -1;
      preds[id].forEach((p) => { if (rank[p] !== undefined) best = Math.max(best, rank[p]); });  // a cycle's back edge has none yet
      rank[id] = best + 1;
    }
  });
  const rows = [];
  nodes.forEach((n, index) => { (rows[rank[n.id]] = rows[rank[n.id]] || []).push([n.id, index]); });
  const centre = {};
  const positions = {};
  let top = 0;
  rows.forEach((row) => {
    if (!row) return;
    const wanted = row.map(([id, index]) => {
      const placed = preds[id].filter((p) => centre[p] !== undefined);
      const want = placed.length ? placed.reduce((sum, p) => sum + centre[p], 0) / placed.length : null;
      return { id, index, want };
    });
    wanted.sort((a, b) => (a.want === null) - (b.want === null) || (a.want || 0) - (b.want || 0) || a.index - b.index);
    let right = -Infinity;
    let height = 0;
    wanted.forEach(({ id, want }) => {
      const { width, height: tall } = sizeOf(id);
      const first = right === -Infinity;
      const left = Math.max(want === null ? (first ? 0 : right + COLUMN_GAP) : want - width / 2,
        first ? -Infinity : right + COLUMN_GAP);
      centre[id] = left + width / 2;
      right = left + width;
      height = Math.max(height, tall);
      positions[id] = { x: left, y: top };
    });
    top += height + ROW_GAP;
  });
  return positions;
}

function dagreLayout(nodes, edges, sizeOf) {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 60 });
  graph.setDefaultEdgeLabel(() => ({}));
  nodes.forEach((n) => graph.setNode(n.id, sizeOf(n.id)));
  edges.forEach((e) => graph.setEdge(e.source, e.target));
  dagre.layout(graph);
  return Object.fromEntries(nodes.map((n) => {
    const p = graph.node(n.id);
    const { width, height } = sizeOf(n.id);
    return [n.id, { x: p.x - width / 2, y: p.y - height / 2 }];
  }));
}

// One level of the flow (its top-level nodes, or one group's children), top-left at 0, 0.
function layoutLevel(nodes, edges, sizeOf, quick) {
  const placed = quick ? quickLayout(nodes, edges, sizeOf) : dagreLayout(nodes, edges, sizeOf);
  let left = Infinity;
  let top = Infinity;
  nodes.forEach((n) => { left = Math.min(left, placed[n.id].x); top = Math.min(top, placed[n.id].y); });
  nodes.forEach((n) => { placed[n.id] = { x: placed[n.id].x - left, y: placed[n.id].y - top }; });
  return placed;
}

// Who holds each node ("" for the flow itself), ignoring a parent the graph does not have.
function parentsOf(nodes) {
  const ids = new Set(nodes.map((n) => n.id));
  return Object.fromEntries(nodes.map((n) => [n.id, n.parent && ids.has(n.parent) ? n.parent : ""]));
}

function depthsOf(nodes, parentOf) {
  const depth = {};
  nodes.forEach((n) => {
    const chain = [];
    let id = n.id;
    while (id && depth[id] === undefined && chain.length <= nodes.length) { chain.push(id); id = parentOf[id]; }
    let d = id ? depth[id] : -1;
    for (let i = chain.length - 1; i >= 0; i -= 1) { d += 1; depth[chain[i]] = d; }
  });
  return depth;
}

// An edge between two levels counts, for the layout, between the nodes holding its ends in the level that holds
// both; an edge from a group into its own children ties nothing at any level (the header is where they start).
function levelEdge(edge, parentOf, depth) {
  let a = edge.source;
  let b = edge.target;
  if (depth[a] === undefined || depth[b] === undefined) return null;
  while (depth[a] > depth[b]) a = parentOf[a];
  while (depth[b] > depth[a]) b = parentOf[b];
  if (a === b) return null;
  while (parentOf[a] !== parentOf[b]) { a = parentOf[a]; b = parentOf[b]; }
  return { level: parentOf[a], source: a, target: b };
}

// The whole flow laid out, each group's children first (positions relative to the group's box, under its
// header), then each group as one big node of the level holding it. Returns positions as React Flow wants them:
// a child's relative to its parent, a top-level node's in the flow.
export function layout(nodes, edges) {
  // dagre for a small flow, at every level; a big one's levels the quick way (dagre costs about 2 ms per call even
  // for a group of three, and a flow of a thousand tasks may have hundreds of groups).
  const quick = nodes.length > 60 || edges.length > 120;
  const parentOf = parentsOf(nodes);
  const depth = depthsOf(nodes, parentOf);
  const members = new Map([["", []]]);
  nodes.forEach((n) => {
    if (!members.has(parentOf[n.id])) members.set(parentOf[n.id], []);
    members.get(parentOf[n.id]).push(n);
  });
  const links = new Map();
  edges.forEach((e) => {
    const link = levelEdge(e, parentOf, depth);
    if (!link) return;
    if (!links.has(link.level)) links.set(link.level, []);
    links.get(link.level).push(link);
  });
  const sizes = {};
  const sizeOf = (id) => sizes[id] || { width: NODE_WIDTH, height: NODE_HEIGHT };
  const positions = {};
  const groups = nodes.filter((n) => n.kind === "group").sort((a, b) => depth[b.id] - depth[a.id]);
  groups.forEach((group) => {
    const children = members.get(group.id) || [];
    let right = 0;
    let bottom = 0;
    if (children.length) {
      const placed = layoutLevel(children, links.get(group.id) || [], sizeOf, quick);
      children.forEach((child) => {
        const at = { x: placed[child.id].x + GROUP_PAD, y: placed[child.id].y + GROUP_TOP };
        positions[child.id] = at;
        right = Math.max(right, at.x + sizeOf(child.id).width);
        bottom = Math.max(bottom, at.y + sizeOf(child.id).height);
      });
    }
    sizes[group.id] = boxAround(right, bottom);
  });
  const top = members.get("");
  if (top.length) Object.assign(positions, layoutLevel(top, links.get("") || [], sizeOf, quick));
  return positions;
}

// Each group box sized to hold its children where they are now (after a drag, a drop, a node added): React Flow
// nodes, each parent before its children as React Flow wants them. A child left past its box's left or top edge
// (a nested box React Flow moved out while growing it) moves the box out to it, the children staying where they
// are in the flow. Nodes that did not change keep their object (no redraw); the same array comes back when none did.
export function fitGroups(nodes) {
  const reach = new Map();  // group id: how far its children reach, relative to its box
  const children = new Map();
  const sizes = new Map();
  const moved = new Map();
  const positionOf = (n) => moved.get(n.id) || n.position;
  for (let i = nodes.length - 1; i >= 0; i -= 1) {  // children before their parent
    const n = nodes[i];
    let width = NODE_WIDTH;
    let height = NODE_HEIGHT;
    if (n.data && n.data.kind === "group") {
      const r = reach.get(n.id) || { left: 0, top: 0, right: 0, bottom: 0 };
      const dx = Math.min(0, r.left);
      const dy = Math.min(0, r.top);
      if (dx || dy) {
        moved.set(n.id, { x: n.position.x + dx, y: n.position.y + dy });
        (children.get(n.id) || []).forEach((child) => {
          const at = positionOf(child);
          moved.set(child.id, { x: at.x - dx, y: at.y - dy });
        });
      }
      ({ width, height } = boxAround(r.right - dx, r.bottom - dy));
      sizes.set(n.id, { width, height });
    }
    if (n.parentId) {
      const at = positionOf(n);
      const r = reach.get(n.parentId) || { left: 0, top: 0, right: 0, bottom: 0 };
      reach.set(n.parentId, { left: Math.min(r.left, at.x), top: Math.min(r.top, at.y),
        right: Math.max(r.right, at.x + width), bottom: Math.max(r.bottom, at.y + height) });
      if (!children.has(n.parentId)) children.set(n.parentId, []);
      children.get(n.parentId).push(n);
    }
  }
  let changed = false;
  const next = nodes.map((n) => {
    const size = sizes.get(n.id);
    const resized = size && (n.width !== size.width || n.height !== size.height);
    if (!resized && !moved.has(n.id)) return n;
    changed = true;
    return { ...n, ...(resized ? size : {}), ...(moved.has(n.id) ? { position: moved.get(n.id) } : {}) };
  });
  return changed ? next : nodes;
}

// Where each node is in the flow (a child's position is relative to its parent's): for the keyboard and for
// fitting the view. Parents come before their children.
export function absolutePositions(nodes) {
  const at = {};
  nodes.forEach((n) => {
    const base = n.parentId && at[n.parentId];
    at[n.id] = base ? { x: base.x + n.position.x, y: base.y + n.position.y } : n.position;
  });
  return at;
}

export const sizeOfNode = (node) => ({ width: node.width || NODE_WIDTH, height: node.height || NODE_HEIGHT });

const rectOf = (node) => ({ ...node.position, ...sizeOfNode(node) });
const overlaps = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height + 10
  && b.y < a.y + a.height + 10;

// The first free spot for a task at ``spot`` or to its right, past the ``placed`` rectangles of its level.
function firstFree(spot, placed) {
  const free = { ...spot, width: NODE_WIDTH, height: NODE_HEIGHT };
  while (placed.some((p) => overlaps(p, free))) free.x += COLUMN;
  return { x: free.x, y: free.y };
}

// The first free spot one row under the ``anchor`` node, moving right past the ``siblings`` (nodes of its level).
export function spotBelow(anchor, siblings) {
  const at = rectOf(anchor);
  return firstFree({ x: at.x, y: at.y + at.height + ROW_GAP }, siblings.map(rectOf));
}

// A node new to a flow already drawn (dropped, added from the palette, typed in the YAML) goes under what it waits
// for in its level (``anchors``), or first in its group's box; not where a layout of the whole flow would put it.
export function placeNew(anchors, siblings, inGroup) {
  if (anchors.length) return spotBelow(anchors.reduce((a, b) => (b.position.y + sizeOfNode(b).height
    > a.position.y + sizeOfNode(a).height ? b : a)), siblings);
  return inGroup ? firstFree({ x: GROUP_PAD, y: GROUP_TOP }, siblings.map(rectOf)) : null;
}

// The node an arrow key moves to from ``from``: the nearest in that direction, straight ahead counting most.
export function neighbour(from, nodes, key) {
  const [dx, dy] = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] }[key] || [0, 0];
  let best = null;
  let bestScore = Infinity;
  nodes.forEach((n) => {
    if (n.id === from.id) return;
    const ahead = (n.position.x - from.position.x) * dx + (n.position.y - from.position.y) * dy;
    const aside = Math.abs((n.position.x - from.position.x) * dy) + Math.abs((n.position.y - from.position.y) * dx);
    if (ahead <= 0) return;
    const score = ahead + 2 * aside;
    if (score < bestScore) { bestScore = score; best = n; }
  });
  return best;
}

// The rectangle holding every node, for fitting the view without waiting for nodes to be measured: the top-level
// nodes' (a group's box holds its children).
export function boundsOf(nodes) {
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  nodes.forEach((n) => {
    if (n.parentId) return;
    const { width, height } = sizeOfNode(n);
    left = Math.min(left, n.position.x);
    top = Math.min(top, n.position.y);
    right = Math.max(right, n.position.x + width);
    bottom = Math.max(bottom, n.position.y + height);
  });
  return left === Infinity ? null : { x: left, y: top, width: right - left, height: bottom - top };
}

// Is ``point`` (in the coordinates of ``node``'s level) in the zone just under ``node``, where a drop means
// "after this one"?
export function inDropZone(point, node) {
  const { x, y } = node.position;
  const { width, height } = sizeOfNode(node);
  return point.x >= x - 60 && point.x <= x + width + 60 && point.y >= y + height / 2 && point.y <= y + height + 140;
}
