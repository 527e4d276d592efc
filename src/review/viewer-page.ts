import * as fs from 'fs';
import { Topology } from './topology';

/** What the page says about itself. */
export interface ViewerPageOptions {
  /** Page title, e.g. the repository's name. */
  readonly title: string;
  /** One line under the title, e.g. the diff summary. */
  readonly subtitle: string;
}

/**
 * One self-contained HTML file showing `topology` with cytoscape.js (inlined,
 * so the page works offline and needs no server): directories as boxes,
 * objects inside them, edges for selectors, references and NetworkPolicy
 * flows, the diff overlaid in colour, and the YAML of a node on click.
 */
export function renderViewerPage(topology: Topology, options: ViewerPageOptions): string {
  const cytoscape = fs.readFileSync(cytoscapeBrowserBuild(), 'utf-8');
  // JSON inside <script>: escape '<' so no value can close the script element.
  const data = JSON.stringify({ ...topology, ...options }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
<style>
  body { margin: 0; font: 13px system-ui, sans-serif; display: grid; grid-template: "head head head" auto "list graph panel" 1fr / 260px 1fr 420px; height: 100vh; }
  header { grid-area: head; padding: 8px 12px; border-bottom: 1px solid #ccc; }
  header h1 { font-size: 16px; margin: 0 0 4px; }
  #legend span { display: inline-block; margin-right: 14px; }
  #legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
  #objects { grid-area: list; overflow: auto; border-right: 1px solid #ccc; margin: 0; padding: 6px 0; list-style: none; }
  #objects li { padding: 2px 10px; cursor: pointer; white-space: nowrap; }
  #objects li.directory { font-weight: bold; margin-top: 6px; cursor: default; }
  #objects li:hover { background: #eef; }
  #graph { grid-area: graph; }
  #panel { grid-area: panel; overflow: auto; border-left: 1px solid #ccc; padding: 8px 12px; }
  #panel pre { background: #f6f6f6; padding: 8px; font-size: 12px; white-space: pre; overflow: auto; }
  #panel p { overflow-wrap: anywhere; }
  .added { color: #1a7f37; } .changed { color: #b35900; } .removed { color: #c62828; }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <div id="subtitle"></div>
  <div id="legend">
    <span><i style="background:#1a7f37"></i>added</span><span><i style="background:#e67700"></i>changed</span>
    <span><i style="background:#c62828"></i>removed</span><span><i style="background:#6b7bd6"></i>NetworkPolicy flow</span>
    <span><i style="background:#999"></i>reference</span><span><i style="background:#fff;border:1px dashed #888"></i>outside git</span>
  </div>
</header>
<ul id="objects"></ul>
<div id="graph"></div>
<section id="panel"><p>Click an object to see its YAML.</p></section>
<script>${cytoscape}</script>
<script>
const DATA = ${data};
const COLORS = { added: '#1a7f37', changed: '#e67700', removed: '#c62828' };
document.getElementById('title').textContent = DATA.title;
document.getElementById('subtitle').textContent = DATA.subtitle;
const cy = cytoscape({
  container: document.getElementById('graph'),
  elements: [
    ...DATA.nodes.map(n => ({ data: { ...n, color: COLORS[n.diff] || '#4a5568' }, classes: [n.role, n.diff].filter(Boolean).join(' ') })),
    ...DATA.edges.map(e => ({ data: e, classes: e.type })),
  ],
  style: [
    { selector: 'node', style: { 'label': 'data(label)', 'text-wrap': 'wrap', 'font-size': 9, 'text-valign': 'center', 'shape': 'round-rectangle', 'width': 96, 'height': 34, 'background-color': '#fff', 'border-width': 2, 'border-color': 'data(color)' } },
    { selector: 'node.directory', style: { 'text-valign': 'top', 'font-size': 12, 'font-weight': 'bold', 'background-color': '#f4f6fb', 'border-color': '#99a', 'border-width': 1 } },
    { selector: 'node.external', style: { 'border-style': 'dashed', 'border-color': '#888', 'color': '#555' } },
    { selector: 'node.removed', style: { 'border-style': 'dashed', 'opacity': 0.7 } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#0b5ed7' } },
    { selector: 'edge', style: { 'width': 1, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': '#bbb', 'target-arrow-color': '#bbb', 'opacity': 0.6 } },
    { selector: 'edge.network', style: { 'line-color': '#6b7bd6', 'target-arrow-color': '#6b7bd6', 'line-style': 'dashed' } },
    // Labels only on the edges of the selected node: on every edge they would bury the graph.
    { selector: 'edge.highlight', style: { 'width': 2, 'opacity': 1, 'label': 'data(label)', 'font-size': 9, 'text-rotation': 'autorotate', 'text-background-color': '#fff', 'text-background-opacity': 1 } },
  ],
  layout: { name: 'preset' },
  wheelSensitivity: 0.3,
});

// A deterministic layout: one column of boxes per directory, objects in sync-wave order, what lies
// outside git on top; force-directed layouts scatter the same tree differently on every change.
let left = 0;
for (const dir of cy.nodes('.directory')) {
  const rank = n => [n.hasClass('external') ? 0 : 1, Number(n.data('wave') ?? 0), n.data('kind') || '', n.data('label')];
  const kids = dir.children().sort((a, b) => { const x = rank(a), y = rank(b); for (let i = 0; i < x.length; i++) { if (x[i] < y[i]) return -1; if (x[i] > y[i]) return 1; } return 0; });
  const columns = kids.length > 16 ? 3 : 2;
  kids.forEach((n, i) => n.position({ x: left + (i % columns) * 115, y: Math.floor(i / columns) * 50 }));
  left += columns * 115 + 90;
}
cy.fit(undefined, 24);

function show(node) {
  const d = node.data();
  const panel = document.getElementById('panel');
  panel.textContent = '';
  const add = (tag, text, cls) => { const e = document.createElement(tag); e.textContent = text; if (cls) e.className = cls; panel.appendChild(e); return e; };
  add('h2', d.label.replace('\\n', ' '));
  if (d.diff) add('p', d.diff + (d.changedFields ? ': ' + d.changedFields.join(', ') : ''), d.diff);
  if (d.wave !== undefined) add('p', 'sync wave ' + d.wave);
  if (d.podSecurity) add('p', 'Pod Security: ' + d.podSecurity);
  for (const image of d.images || []) add('p', 'image ' + image);
  if (d.yaml) add('pre', d.yaml).id = 'yaml';
  cy.$(':selected').unselect();
  cy.edges().removeClass('highlight');
  node.select();
  node.connectedEdges().addClass('highlight');
}
cy.on('tap', 'node.object, node.external', e => show(e.target));

const list = document.getElementById('objects');
for (const dir of cy.nodes('.directory')) {
  const header = document.createElement('li');
  header.className = 'directory';
  header.textContent = dir.data('label');
  list.appendChild(header);
  for (const node of dir.children('.object')) {
    const item = document.createElement('li');
    item.textContent = node.data('label').replace('\\n', ' ');
    item.dataset.id = node.id();
    if (node.data('diff')) item.className = node.data('diff');
    item.onclick = () => { show(node); cy.animate({ center: { eles: node } }, { duration: 200 }); };
    list.appendChild(item);
  }
}
window.gitopsView = { cy, objectCount: cy.nodes('.object').length };
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * cytoscape's browser build. cytoscape is an optional peer dependency: only
 * this page needs it, so teams that use the constructs alone never install it.
 */
function cytoscapeBrowserBuild(): string {
  try {
    return require.resolve('cytoscape/dist/cytoscape.min.js');
  } catch {
    throw new Error('the viewer draws with cytoscape, an optional peer dependency that is not installed: npm install --save-dev cytoscape@^3.34');
  }
}
