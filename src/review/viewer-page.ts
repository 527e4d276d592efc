import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { Topology } from './topology';

/** What the page says about itself. */
export interface ViewerPageOptions {
  /** Page title, e.g. the repository's name. */
  readonly title: string;
  /** One line under the title, e.g. the diff summary. */
  readonly subtitle: string;
  /**
   * Whether the page is the live view: it then follows `api/stream` of the
   * server that serves it, and reads events and logs from it.
   * @default false - the static page, a file that needs no server
   */
  readonly live?: boolean;
  /**
   * The nonce its scripts carry, for a Content-Security-Policy that admits only them.
   * @default - a fresh random one, also put in the page's own policy
   */
  readonly nonce?: string;
}

/**
 * One self-contained HTML file showing `topology` with cytoscape.js (inlined,
 * so the page works offline and needs no server): directories as boxes,
 * objects inside them, edges for selectors, references and NetworkPolicy
 * flows, the diff overlaid in colour, and the YAML of a node on click. It
 * opens on one environment, fitted no smaller than legible; a search box
 * ("/"), filters (directory, kind, status) and the arrow keys and Enter find
 * and open objects. Live (`view --cluster`), it colours each object by how
 * it compares with the cluster and shows replicas, pods, events and logs.
 */
export function renderViewerPage(topology: Topology, options: ViewerPageOptions): string {
  const cytoscape = fs.readFileSync(cytoscapeBrowserBuild(), 'utf-8');
  const nonce = options.nonce ?? randomBytes(16).toString('base64');
  // JSON inside <script>: escape '<' so no value can close the script element.
  const data = JSON.stringify({ ...topology, title: options.title, subtitle: options.subtitle, live: options.live === true }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; connect-src ${options.live ? "'self'" : "'none'"}">
<title>${escapeHtml(options.title)}</title>
<style>
  body { margin: 0; font: 13px system-ui, sans-serif; display: grid; grid-template: "head head head" auto "list graph panel" 1fr / 300px 1fr 420px; height: 100vh; }
  header { grid-area: head; padding: 8px 12px; border-bottom: 1px solid #ccc; }
  header h1 { font-size: 16px; margin: 0 0 4px; }
  #toolbar { margin-top: 6px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  #toolbar input { width: 220px; }
  #connection { padding: 2px 8px; border-radius: 10px; }
  #connection.ok { background: #e3f4e8; color: #1a7f37; } #connection.lost { background: #fde7e7; color: #c62828; font-weight: bold; }
  .legend span { display: inline-block; margin-right: 14px; }
  .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
  #objects { grid-area: list; overflow: auto; border-right: 1px solid #ccc; margin: 0; padding: 6px 0; list-style: none; }
  #objects li { padding: 2px 10px; cursor: pointer; white-space: nowrap; }
  #objects li.directory { font-weight: bold; margin-top: 6px; cursor: default; }
  #objects li.directory .app { font-weight: normal; color: #555; }
  #objects li.pod { padding-left: 26px; color: #444; }
  #objects li .summary { color: #666; }
  #objects li:hover, #objects li.current { background: #eef; }
  #graph { grid-area: graph; min-width: 0; }
  #panel { grid-area: panel; overflow: auto; border-left: 1px solid #ccc; padding: 8px 12px; }
  #panel pre { background: #f6f6f6; padding: 8px; font-size: 12px; white-space: pre; overflow: auto; }
  #panel #log { max-height: 360px; }
  #panel p { overflow-wrap: anywhere; }
  #panel table { border-collapse: collapse; } #panel td, #panel th { padding: 2px 6px; text-align: left; border-bottom: 1px solid #eee; }
  .added, .in-sync { color: #1a7f37; } .changed, .drifted { color: #b35900; } .removed, .missing { color: #c62828; } .extra { color: #8e44ad; } .unknown { color: #666; }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <div id="subtitle"></div>
  <div id="legend-static" class="legend">
    <span><i style="background:#1a7f37"></i>added</span><span><i style="background:#e67700"></i>changed</span>
    <span><i style="background:#c62828"></i>removed</span><span><i style="background:#6b7bd6"></i>NetworkPolicy flow</span>
    <span><i style="background:#999"></i>reference</span><span><i style="background:#fff;border:1px dashed #888"></i>outside git</span>
  </div>
  <div id="legend-live" class="legend">
    <span><i style="background:#1a7f37"></i>in sync</span><span><i style="background:#e67700"></i>drifted</span>
    <span><i style="background:#c62828"></i>missing</span><span><i style="background:#8e44ad"></i>extra (not in git)</span>
    <span><i style="background:#888"></i>drift unknown</span><span><i style="background:#6b7bd6"></i>NetworkPolicy flow</span>
  </div>
  <div id="toolbar">
    <input id="search" type="search" placeholder="Search (press /)" aria-label="Search objects">
    <select id="filter-env" aria-label="Directory"></select>
    <select id="filter-kind" aria-label="Kind"></select>
    <select id="filter-status" aria-label="Status"></select>
    <span id="connection" role="status"></span>
  </div>
</header>
<ul id="objects"></ul>
<div id="graph"></div>
<section id="panel"><p>Click an object to see its YAML${options.live ? ', live status, events and logs' : ''}. Keys: / search, arrows and Enter.</p></section>
<script id="data" type="application/json">${data}</script>
<script nonce="${nonce}">${cytoscape}</script>
<script nonce="${nonce}">${VIEWER_SCRIPT}</script>
</body>
</html>
`;
}

/** The page's own script: layout, filters, keyboard, panel, and the live updates. */
const VIEWER_SCRIPT = String.raw`const DATA = JSON.parse(document.getElementById('data').textContent);
const LIVE = DATA.live === true;
const DIFF_COLORS = { added: '#1a7f37', changed: '#e67700', removed: '#c62828' };
const STATUS_COLORS = { 'in-sync': '#1a7f37', drifted: '#e67700', missing: '#c62828', extra: '#8e44ad', unknown: '#888888' };
const HEALTH_MARK = { healthy: '\u2714', progressing: '\u2026', degraded: '\u2716' };
// Node labels are 12px; the graph never opens below this zoom, so they are never under 11px on screen.
const FONT_PX = 12;
const MIN_READABLE_ZOOM = 11 / FONT_PX;
const $ = id => document.getElementById(id);
$('title').textContent = DATA.title;
$('subtitle').textContent = DATA.subtitle;
$(LIVE ? 'legend-static' : 'legend-live').hidden = true;
$('connection').hidden = !LIVE;

const cy = cytoscape({
  container: $('graph'),
  elements: [
    ...DATA.nodes.map(n => ({ data: { ...n, baseLabel: n.label, color: (LIVE ? '#4a5568' : DIFF_COLORS[n.diff]) || '#4a5568' }, classes: [n.role, n.diff].filter(Boolean).join(' ') })),
    ...DATA.edges.map(e => ({ data: e, classes: e.type })),
  ],
  style: [
    { selector: 'node', style: { 'label': 'data(label)', 'text-wrap': 'wrap', 'text-max-width': 150, 'font-size': FONT_PX, 'text-valign': 'center', 'shape': 'round-rectangle', 'width': 156, 'height': 48, 'background-color': '#fff', 'border-width': 2, 'border-color': 'data(color)' } },
    { selector: 'node.directory', style: { 'text-valign': 'top', 'font-size': 14, 'font-weight': 'bold', 'background-color': '#f4f6fb', 'border-color': '#99a', 'border-width': 1 } },
    { selector: 'node.external', style: { 'border-style': 'dashed', 'border-color': '#888', 'color': '#555' } },
    { selector: 'node.removed, node.missing, node.extra', style: { 'border-style': 'dashed', 'opacity': 0.8 } },
    { selector: 'node.dimmed', style: { 'opacity': 0.2 } },
    { selector: 'node.hidden', style: { 'display': 'none' } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#0b5ed7' } },
    { selector: 'edge', style: { 'width': 1, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': '#bbb', 'target-arrow-color': '#bbb', 'opacity': 0.6 } },
    { selector: 'edge.network', style: { 'line-color': '#6b7bd6', 'target-arrow-color': '#6b7bd6', 'line-style': 'dashed' } },
    // Labels only on the edges of the selected node: on every edge they would bury the graph.
    { selector: 'edge.highlight', style: { 'width': 2, 'opacity': 1, 'label': 'data(label)', 'font-size': 11, 'text-rotation': 'autorotate', 'text-background-color': '#fff', 'text-background-opacity': 1 } },
  ],
  layout: { name: 'preset' },
  wheelSensitivity: 0.3,
});

// A deterministic layout: one column of boxes per directory, objects in sync-wave order, what lies
// outside git on top; force-directed layouts scatter the same tree differently on every change.
const COLUMN = 176, ROW = 64;
const rank = n => [n.hasClass('external') ? 0 : 1, Number(n.data('wave') ?? 0), n.data('kind') || '', n.data('baseLabel')];
const byRank = (a, b) => { const x = rank(a), y = rank(b); for (let i = 0; i < x.length; i++) { if (x[i] < y[i]) return -1; if (x[i] > y[i]) return 1; } return 0; };
function layout() {
  let left = 0;
  for (const dir of cy.nodes('.directory')) {
    const kids = dir.children().sort(byRank);
    const columns = kids.length > 16 ? 3 : 2;
    kids.forEach((n, i) => n.position({ x: left + (i % columns) * COLUMN, y: Math.floor(i / columns) * ROW }));
    left += columns * COLUMN + 90;
  }
}
layout();

// ------------------------------------------------------------------ filters ---
const directories = cy.nodes('.directory').map(d => d.id().slice(4));
const synced = new Set(DATA.edges.filter(e => e.label === 'syncs').map(e => e.target.slice(4)));
const envSelect = $('filter-env'), kindSelect = $('filter-kind'), statusSelect = $('filter-status'), search = $('search');
const option = (select, value, text) => { const o = document.createElement('option'); o.value = value; o.textContent = text; select.appendChild(o); };
option(envSelect, '', 'all directories');
for (const d of directories) option(envSelect, d, d + '/');
// The first environment (a directory an Application syncs, holding no Applications itself) opens:
// one environment fits the page with names legible; all of them would not.
const holdsApplications = d => DATA.nodes.some(n => n.parent === 'dir:' + d && n.kind === 'Application');
envSelect.value = directories.find(d => synced.has(d) && !holdsApplications(d)) ?? directories[0] ?? '';
option(kindSelect, '', 'all kinds');
for (const k of [...new Set(DATA.nodes.map(n => n.kind).filter(Boolean))].sort()) option(kindSelect, k, k);
option(statusSelect, '', LIVE ? 'any status' : 'any change');
for (const s of LIVE ? ['in-sync', 'drifted', 'missing', 'extra', 'unknown'] : ['added', 'changed', 'removed', 'unchanged']) option(statusSelect, s, s);

const statusOf = node => (LIVE ? node.data('status') : node.data('diff') || 'unchanged');
function matches(node) {
  const text = search.value.trim().toLowerCase();
  return (!kindSelect.value || node.data('kind') === kindSelect.value)
    && (!statusSelect.value || statusOf(node) === statusSelect.value)
    && (!text || (node.data('baseLabel') + ' ' + (node.data('summary') || '')).toLowerCase().includes(text));
}
const inEnv = node => !envSelect.value || node.data('parent') === 'dir:' + envSelect.value || node.id() === 'dir:' + envSelect.value;

/** Fits the visible directories, but never below the zoom where labels stay legible. */
function fit() {
  const shown = cy.nodes(':visible');
  if (shown.length === 0) return;
  cy.fit(shown, 24);
  if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(shown); }
  if (cy.zoom() < MIN_READABLE_ZOOM) {
    const box = shown.boundingBox();
    cy.zoom(MIN_READABLE_ZOOM);
    cy.pan({ x: 24 - box.x1 * MIN_READABLE_ZOOM, y: 24 - box.y1 * MIN_READABLE_ZOOM });
  }
}

function applyFilters(refit) {
  cy.batch(() => {
    for (const node of cy.nodes()) {
      node.toggleClass('hidden', !inEnv(node));
      if (!node.hasClass('directory')) node.toggleClass('dimmed', !matches(node));
    }
  });
  for (const item of document.querySelectorAll('#objects li')) {
    const node = item.dataset.id ? cy.$id(item.dataset.id) : item.dataset.dir ? cy.$id('dir:' + item.dataset.dir) : cy.$id(item.dataset.owner);
    item.hidden = !node.length || !inEnv(node) || (!item.classList.contains('directory') && !matches(node));
  }
  if (refit) fit();
}
for (const control of [envSelect, kindSelect, statusSelect]) control.onchange = () => applyFilters(control === envSelect);
search.oninput = () => applyFilters(false);

// -------------------------------------------------------------------- panel ---
const panel = $('panel');
let selected = null;
const add = (parent, tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; parent.appendChild(e); return e; };
const age = s => (s < 120 ? s + 's' : s < 7200 ? Math.round(s / 60) + 'm' : s < 172800 ? Math.round(s / 3600) + 'h' : Math.round(s / 86400) + 'd');
const podLine = p => [p.phase, p.ready ? 'Ready' : 'not ready', p.readyContainers, p.restarts + ' restarts', p.node || 'unscheduled', age(p.ageSeconds), p.reason, p.role].filter(Boolean).join(' \u00b7 ');

function show(node) {
  selected = { type: 'node', id: node.id() };
  const d = node.data();
  panel.textContent = '';
  add(panel, 'h2', d.baseLabel.replace('\n', ' '));
  if (d.diff) add(panel, 'p', d.diff + (d.changedFields ? ': ' + d.changedFields.join(', ') : ''), d.diff);
  if (LIVE) add(panel, 'div').id = 'live';
  if (d.wave !== undefined) add(panel, 'p', 'sync wave ' + d.wave);
  if (d.podSecurity) add(panel, 'p', 'Pod Security: ' + d.podSecurity);
  for (const image of d.images || []) add(panel, 'p', 'image ' + image);
  if (d.yaml || d.liveYaml) add(panel, 'pre', d.yaml || d.liveYaml).id = 'yaml';
  if (LIVE && d.kind && d.namespace) {
    add(panel, 'h3', 'Recent events');
    add(panel, 'div', 'loading\u2026').id = 'events';
    loadEvents(d.namespace, d.kind, d.name);
  }
  cy.$(':selected').unselect();
  cy.edges().removeClass('highlight');
  node.select();
  node.connectedEdges().addClass('highlight');
  markCurrent(document.querySelector('#objects li[data-id="' + CSS.escape(node.id()) + '"]'));
  stopLog();
  renderLive();
}
cy.on('tap', 'node.object, node.external', e => show(e.target));

// ------------------------------------------------------------------- list ---
const list = $('objects');
function renderList() {
  const current = document.querySelector('#objects li.current');
  const currentKey = current && (current.dataset.id || 'pod:' + current.dataset.pod);
  list.textContent = '';
  for (const dir of cy.nodes('.directory')) {
    const header = add(list, 'li', dir.data('label'), 'directory');
    header.dataset.dir = dir.id().slice(4);
    if (dir.data('application')) add(header, 'span', ' ' + dir.data('application'), 'app');
    for (const node of dir.children('.object').sort(byRank)) {
      const item = add(list, 'li', node.data('baseLabel').replace('\n', ' '));
      item.dataset.id = node.id();
      item.tabIndex = -1;
      if (node.data('diff')) item.className = node.data('diff');
      if (LIVE) {
        item.className = node.data('status') || 'unknown';
        item.dataset.status = node.data('status') || 'unknown';
        if (node.data('health')) item.dataset.health = node.data('health');
        if (node.data('summary')) add(item, 'span', ' ' + (HEALTH_MARK[node.data('health')] || '') + ' ' + node.data('summary'), 'summary');
      }
      item.onclick = () => { show(node); cy.animate({ center: { eles: node } }, { duration: 200 }); };
      for (const pod of node.data('pods') || []) {
        const p = add(list, 'li', pod.name, 'pod');
        p.dataset.pod = pod.name;
        p.dataset.owner = node.id();
        p.dataset.phase = pod.phase;
        p.dataset.ready = String(pod.ready);
        p.tabIndex = -1;
        add(p, 'span', ' ' + podLine(pod), 'summary');
        p.onclick = () => showPod(node, pod.name);
      }
    }
  }
  if (currentKey) markCurrent(currentKey.startsWith('pod:') ? document.querySelector('#objects li[data-pod="' + CSS.escape(currentKey.slice(4)) + '"]')
    : document.querySelector('#objects li[data-id="' + CSS.escape(currentKey) + '"]'));
  applyFilters(false);
}

function markCurrent(item) {
  for (const e of document.querySelectorAll('#objects li.current')) e.classList.remove('current');
  if (item) { item.classList.add('current'); item.scrollIntoView({ block: 'nearest' }); }
}

// ----------------------------------------------------------------- keyboard ---
// "/" searches; arrows walk the visible list; Enter opens; Escape leaves the search.
document.addEventListener('keydown', e => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === '/' && !typing) { e.preventDefault(); search.focus(); search.select(); return; }
  if (e.key === 'Escape' && e.target === search) { search.value = ''; applyFilters(false); search.blur(); return; }
  if (!['ArrowDown', 'ArrowUp', 'Enter'].includes(e.key) || (typing && e.target !== search)) return;
  const items = [...document.querySelectorAll('#objects li[data-id], #objects li.pod')].filter(i => !i.hidden);
  if (items.length === 0) return;
  e.preventDefault();
  const at = items.findIndex(i => i.classList.contains('current'));
  if (e.key === 'Enter') { (items[at] || items[0]).click(); return; }
  const next = e.key === 'ArrowDown' ? Math.min(items.length - 1, at + 1) : Math.max(0, at - 1);
  markCurrent(items[next]);
  if (e.target === search) search.blur();
});

// --------------------------------------------------------------------- live ---
let state = null;
let updates = 0;
let lastMessage = 0;
function setConnection(ok, text) {
  const c = $('connection');
  c.className = ok ? 'ok' : 'lost';
  c.textContent = text;
}

function applyState(s) {
  state = s;
  updates++;
  const seen = new Set();
  cy.batch(() => {
    for (const dir of s.directories) {
      const box = cy.$id('dir:' + dir.directory);
      if (dir.application) box.data('application', 'Argo CD: ' + dir.application.sync + ', ' + dir.application.health + (dir.application.revision ? ' at ' + dir.application.revision.slice(0, 7) : '') + (dir.application.operation ? ' (' + dir.application.operation + ')' : ''));
      for (const o of dir.objects) {
        seen.add(o.id);
        let node = cy.$id(o.id);
        if (node.length === 0) {
          node = cy.add({ group: 'nodes', data: { id: o.id, label: '', baseLabel: o.kind + '\n' + o.name, role: 'object', parent: 'dir:' + dir.directory, kind: o.kind, live: true }, classes: 'object' });
          node.position(box.children().length ? { x: box.boundingBox().x1 + 20, y: box.boundingBox().y2 + ROW / 2 } : { x: 0, y: 0 });
        }
        node.data({ status: o.status, summary: o.summary, health: o.health, pods: o.pods, claims: o.claims, drift: o.drift, liveYaml: o.yaml, namespace: o.namespace, name: o.name, application: o.application });
        node.data('label', node.data('baseLabel') + (o.summary ? '\n' + (HEALTH_MARK[o.health] || '') + ' ' + o.summary : '\n' + o.status));
        node.data('color', STATUS_COLORS[o.status] || '#4a5568');
        node.classes(['object', o.status].join(' '));
      }
    }
    // An extra that went away leaves the graph; git's own nodes stay (missing, at worst).
    cy.nodes('.object').filter(n => n.data('live') && !seen.has(n.id())).remove();
  });
  renderList();
  renderLive();
  if (s.error) setConnection(false, 'cannot read the cluster (retrying): ' + s.error);
  else setConnection(true, 'live \u00b7 read ' + new Date(s.readAt).toLocaleTimeString());
}

/** The live part of the panel: status, drift, pods and claims of the selected object. */
function renderLive() {
  const box = $('live');
  if (!box || !selected || !state) return;
  const node = cy.$id(selected.id);
  if (!node.length) return;
  const d = node.data();
  box.textContent = '';
  if (selected.type === 'pod') {
    const pod = (d.pods || []).find(p => p.name === selected.pod);
    add(box, 'p', pod ? podLine(pod) : 'gone from the cluster', pod ? (pod.ready ? 'in-sync' : 'drifted') : 'missing').id = 'pod-status';
    return;
  }
  add(box, 'p', (d.status || 'unknown') + (d.drift ? ': a sync would change ' + d.drift.join(', ') : ''), d.status).id = 'live-status';
  if (d.summary) add(box, 'p', (HEALTH_MARK[d.health] || '') + ' ' + d.summary);
  if (d.application && d.application.operation) add(box, 'p', 'last operation: ' + d.application.operation);
  if (d.pods && d.pods.length) {
    const table = add(box, 'table');
    table.id = 'pods';
    const head = add(table, 'tr');
    for (const h of ['pod', 'phase', 'ready', 'restarts', 'node', 'age']) add(head, 'th', h);
    for (const p of d.pods) {
      const row = add(table, 'tr');
      const link = add(add(row, 'td'), 'a', p.name);
      link.href = '#';
      link.onclick = e => { e.preventDefault(); showPod(node, p.name); };
      for (const v of [p.phase + (p.reason ? ' (' + p.reason + ')' : ''), p.readyContainers, p.restarts, p.node || '-', age(p.ageSeconds)]) add(row, 'td', String(v));
    }
  }
  for (const c of d.claims || []) add(box, 'p', 'claim ' + c.name + ': ' + c.phase + (c.size ? ', ' + c.size : ''));
}

function showPod(owner, name) {
  show(owner);
  selected = { type: 'pod', id: owner.id(), pod: name };
  panel.textContent = '';
  add(panel, 'h2', 'Pod ' + name);
  add(panel, 'p', 'of ' + owner.data('baseLabel').replace('\n', ' '));
  add(panel, 'div').id = 'live';
  renderLive();
  add(panel, 'h3', 'Recent events');
  add(panel, 'div', 'loading\u2026').id = 'events';
  loadEvents(owner.data('namespace'), 'Pod', name);
  const pod = (owner.data('pods') || []).find(p => p.name === name);
  add(panel, 'h3', 'Log (last 200 lines, following)');
  add(panel, 'pre', '').id = 'log';
  markCurrent(document.querySelector('#objects li[data-pod="' + CSS.escape(name) + '"]'));
  followLog(owner.data('namespace'), name, pod && pod.containers[0]);
}

let eventsTimer = null;
async function loadEvents(namespace, kind, name) {
  clearTimeout(eventsTimer);
  const target = $('events');
  try {
    const r = await fetch('api/events?' + new URLSearchParams({ namespace, kind, name }));
    const body = await r.json();
    if ($('events') !== target) return;
    target.textContent = '';
    if (!r.ok) { add(target, 'p', body.error, 'missing'); return; }
    if (body.length === 0) add(target, 'p', 'no recent events');
    for (const e of body) add(target, 'p', e.time + ' ' + e.type + ' ' + e.reason + (e.count > 1 ? ' (x' + e.count + ')' : '') + ': ' + e.message, e.type === 'Warning' ? 'changed' : '');
  } catch (e) {
    if ($('events') === target) target.textContent = 'events not loaded: ' + e.message;
  }
  // While the object stays selected its events stay current.
  if ($('events') === target) eventsTimer = setTimeout(() => loadEvents(namespace, kind, name), 5000);
}

let logAbort = null;
function stopLog() { if (logAbort) logAbort.abort(); logAbort = null; }
async function followLog(namespace, pod, container) {
  stopLog();
  const abort = logAbort = new AbortController();
  const pre = $('log');
  try {
    const r = await fetch('api/logs?' + new URLSearchParams({ namespace, pod, container: container || '', tail: '200', follow: '1' }), { signal: abort.signal });
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.textContent = (pre.textContent + decoder.decode(value, { stream: true })).slice(-200000);
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    }
    if (!abort.signal.aborted) pre.textContent += '\n(the log ended)';
  } catch (e) {
    if (!abort.signal.aborted) pre.textContent += '\n(log not read: ' + e.message + ')';
  }
}

if (LIVE) {
  // The token rode in on the URL and now lives in an HttpOnly cookie: keep it out of the address bar.
  history.replaceState(null, '', location.pathname);
  setConnection(false, 'connecting\u2026');
  const stream = new EventSource('api/stream');
  stream.onmessage = e => { lastMessage = Date.now(); applyState(JSON.parse(e.data)); };
  stream.onerror = () => setConnection(false, 'connection lost: the view shows the cluster as of ' + (state ? new Date(state.readAt).toLocaleTimeString() : 'never') + '; retrying');
  // The server sends a snapshot every second or so: silence means the link is gone, even if the socket is not closed.
  setInterval(() => { if (lastMessage && Date.now() - lastMessage > 5000) setConnection(false, 'connection lost: no update for ' + Math.round((Date.now() - lastMessage) / 1000) + 's'); }, 1000);
}
renderList();
applyFilters(true);
window.gitopsView = { cy, objectCount: cy.nodes('.object').length, minReadableZoom: MIN_READABLE_ZOOM, fontPx: FONT_PX, live: { get updates() { return updates; }, get state() { return state; } } };
`;

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
