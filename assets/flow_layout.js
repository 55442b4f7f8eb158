// Where the canvas puts nodes: a layered layout for a whole flow, a spot for one new node after the ones it
// waits for, and the neighbour an arrow key moves the selection to. Plain functions of positions, no React.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 60;
const ROW = 110;
const COLUMN = 220;

function predecessorsOf(nodes, edges) {
  const preds = Object.fromEntries(nodes.map((n) => [n.id, []]));
  edges.forEach((e) => { if (preds[e.target] && preds[e.source]) preds[e.target].push(e.source); });
  return preds;
}

// Layered layout in n log n: a node's row is its longest path from a start (iteratively, no recursion limit);
// in each row nodes are ordered by the mean column of what they wait for, so a group's children sit under it.
// dagre draws nicer graphs but long edges make it quadratic (4 s for 200 tasks with far-reaching dependsOn).
function quickLayout(nodes, edges) {
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
  const x = {};
  const positions = {};
  rows.forEach((row, r) => {
    if (!row) return;
    const wanted = row.map(([id, index]) => {
      const placed = preds[id].filter((p) => x[p] !== undefined);
      const want = placed.length ? placed.reduce((sum, p) => sum + x[p], 0) / placed.length : null;
      return { id, index, want };
    });
    wanted.sort((a, b) => (a.want === null) - (b.want === null) || (a.want || 0) - (b.want || 0) || a.index - b.index);
    let cursor = -Infinity;
    wanted.forEach(({ id, want }) => {
      x[id] = Math.max(want === null ? (cursor === -Infinity ? 0 : cursor + COLUMN) : want, cursor + COLUMN);
      cursor = x[id];
      positions[id] = { x: x[id], y: r * ROW };
    });
  });
  return positions;
}

export function layout(nodes, edges) {
  if (nodes.length > 60 || edges.length > 120) return quickLayout(nodes, edges);
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 60 });
  graph.setDefaultEdgeLabel(() => ({}));
  nodes.forEach((n) => graph.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT }));
  edges.forEach((e) => graph.setEdge(e.source, e.target));
  dagre.layout(graph);
  return Object.fromEntries(nodes.map((n) => {
    const p = graph.node(n.id);
    return [n.id, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 }];
  }));
}

const overlaps = (a, b) => Math.abs(a.x - b.x) < NODE_WIDTH && Math.abs(a.y - b.y) < NODE_HEIGHT + 10;

// The first free spot one row under ``anchor``, moving right past the nodes already there.
export function spotBelow(anchor, placed) {
  const spot = { x: anchor.x, y: anchor.y + ROW };
  while (placed.some((p) => overlaps(p, spot))) spot.x += COLUMN;
  return spot;
}

// A node new to a flow already drawn (dropped, added from the palette, typed in the YAML) goes under what it waits
// for (or its group), not where a layout of the whole flow would put it.
export function placeNew(id, edges, known) {
  const anchors = edges.filter((e) => e.target === id && known[e.source]).map((e) => known[e.source]);
  if (!anchors.length) return null;
  const lowest = anchors.reduce((a, b) => (b.y > a.y ? b : a));
  return spotBelow(lowest, Object.values(known));
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

// The rectangle holding every node, for fitting the view without waiting for nodes to be measured.
export function boundsOf(nodes) {
  if (!nodes.length) return null;
  const xs = nodes.map((n) => n.position.x);
  const ys = nodes.map((n) => n.position.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x + NODE_WIDTH, height: Math.max(...ys) - y + NODE_HEIGHT };
}

// Is ``point`` (flow coordinates) in the zone just under ``node``, where a drop means "after this one"?
export function inDropZone(point, node) {
  const { x, y } = node.position;
  return point.x >= x - 60 && point.x <= x + NODE_WIDTH + 60 && point.y >= y + NODE_HEIGHT / 2
    && point.y <= y + NODE_HEIGHT + 140;
}
