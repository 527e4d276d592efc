import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, chromium, Page } from 'playwright-core';
import { ImageLock } from '../../src';
import { ManifestTree } from '../../src/review/manifest-tree';
import { diffTrees } from '../../src/review/object-diff';
import { buildTopology } from '../../src/review/topology';
import { renderViewerPage } from '../../src/review/viewer-page';
import { TODO_REPOSITORY } from '../../todo/repository';

// The viewer in a real headless Chromium (Debian's `chromium`; CHROMIUM names another): it loads with
// no console error and no network request, shows every object, and shows an object's YAML on a click.
const CANDIDATES = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const CHROMIUM = CANDIDATES.find(p => p !== undefined && fs.existsSync(p));
if (!CHROMIUM) throw new Error('no Chromium found: install it (apt-get install chromium) or set CHROMIUM to its path');
const SCREENSHOT = path.join(__dirname, '..', '..', 'test-reports', 'viewer.png');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-'));
jest.setTimeout(120_000);

TODO_REPOSITORY.synth({ outdir: path.join(tmp, 'dist'), helmDir: path.join(tmp, 'helm'), lock: ImageLock.fromFile(path.join(__dirname, '..', '..', 'images.lock.json')) });
const head = ManifestTree.fromDirectory(path.join(tmp, 'dist'));
// A base in which prod's HPA is new, staging's Deployment had one replica fewer, and a dev ConfigMap since removed existed.
const base = new ManifestTree([
  ...head.objects.filter(o => !(o.directory === 'prod' && o.object.kind === 'HorizontalPodAutoscaler')).map(o =>
    (o.directory === 'staging' && o.object.kind === 'Deployment' ? { ...o, object: { ...o.object, spec: { ...o.object.spec, replicas: 1 } } } : o)),
  { directory: 'dev', file: 'dev/old.yaml', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'retired', namespace: 'todo-dev' }, data: { a: 'b' } } },
]);
const changes = diffTrees(base, head);
const page = path.join(tmp, 'view.html');
fs.writeFileSync(page, renderViewerPage(buildTopology(head, changes), { title: 'todo', subtitle: 'test' }));

let browser: Browser;
let tab: Page;
const errors: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no usable sandbox; the rest keep Chromium off the (closed) network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  tab = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  tab.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  tab.on('pageerror', e => errors.push(String(e)));
  tab.on('request', r => requests.push(r.url()));
  await tab.goto(`file://${page}`);
  await tab.waitForFunction(() => (globalThis as any).gitopsView !== undefined);
});

afterAll(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('loads with no console error and no request beyond the file itself', () => {
  expect(errors).toEqual([]);
  expect(requests).toEqual([`file://${page}`]);
});

test('shows every object of the demo, and the removed one, in the graph and the list', async () => {
  const expected = head.objects.length + 1;
  expect(await tab.evaluate(() => (globalThis as any).gitopsView.objectCount)).toBe(expected);
  expect(await tab.locator('#objects li[data-id]').count()).toBe(expected);
  for (const dir of ['apps', 'bootstrap', 'dev', 'staging', 'prod']) {
    expect(await tab.locator('#objects li.directory', { hasText: `${dir}/` }).count()).toBe(1);
  }
});

test('the diff is overlaid: added, changed and removed objects are marked', async () => {
  expect(await tab.locator('#objects li.added').allTextContents()).toEqual(['HorizontalPodAutoscaler todo']);
  expect(await tab.locator('#objects li.changed').allTextContents()).toEqual(['Deployment todo']);
  expect(await tab.locator('#objects li.removed').allTextContents()).toEqual(['ConfigMap retired']);
});

test('clicking a node in the graph shows its YAML, sync wave, images and Pod Security level', async () => {
  /** Clicks the node `id` in the graph and returns the side panel's text. */
  const click = async (id: string) => {
    const at = await tab.evaluate(nodeId => {
      const view = (globalThis as any).gitopsView;
      const box = view.cy.container().getBoundingClientRect();
      const position = view.cy.$id(nodeId).renderedPosition();
      return { x: box.left + position.x, y: box.top + position.y };
    }, id);
    await tab.mouse.click(at.x, at.y);
    return tab.locator('#panel').textContent();
  };
  // The page opens on dev: its Postgres is a StatefulSet.
  const dev = await click('dev/StatefulSet/todo-dev/todo-db');
  expect(await tab.locator('#panel #yaml').textContent()).toContain('kind: StatefulSet');
  expect(dev).toContain('Pod Security: restricted');
  expect(dev).toMatch(/image postgres: docker\.io\/library\/postgres@sha256:[0-9a-f]{64}/);
  // prod, one choice of the directory filter away, runs CloudNativePG: the operator renders its pods from the Cluster.
  await tab.selectOption('#filter-env', 'prod');
  const prod = await click('prod/Cluster/todo-prod/todo-db');
  const yaml = await tab.locator('#panel #yaml').textContent();
  expect(yaml).toContain('kind: Cluster');
  expect(yaml).toContain('name: todo-db');
  expect(yaml).toContain('namespace: todo-prod');
  expect(prod).toContain('sync wave 0');
  expect(prod).toMatch(/image postgres: ghcr\.io\/acme\/cloudnative-pg-postgresql:15@sha256:[0-9a-f]{64}/);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await tab.screenshot({ path: SCREENSHOT });
  expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
});

test('relations are drawn: selectors, references, NetworkPolicy flows, Applications syncing directories', async () => {
  const edges: Array<{ source: string; target: string; label: string }> = await tab.evaluate(() =>
    (globalThis as any).gitopsView.cy.edges().map((e: any) => ({ source: e.data('source'), target: e.data('target'), label: e.data('label') })));
  const has = (source: string, target: string, label: string) => edges.some(e => e.source === source && e.target === target && e.label === label);
  expect(has('prod/Service/todo-prod/todo', 'prod/Deployment/todo-prod/todo', 'selects')).toBe(true);
  expect(has('prod/Deployment/todo-prod/todo', 'prod/Cluster/todo-prod/todo-db', 'allows :5432/TCP')).toBe(true);
  expect(has('prod/Cluster/todo-prod/todo-db', 'prod/Cluster/todo-prod/todo-db', 'allows :5432/TCP')).toBe(true);
  expect(has('dev/Deployment/todo-dev/todo', 'dev/StatefulSet/todo-dev/todo-db', 'allows :5432/TCP')).toBe(true);
  expect(has('ext:prod:namespace ingress-nginx', 'prod/Deployment/todo-prod/todo', 'allows :8080/TCP')).toBe(true);
  // The sealed login and backup key are in git as SealedSecrets; dev's plaintext login is a Secret.
  expect(has('prod/Deployment/todo-prod/todo', 'prod/SealedSecret/todo-prod/todo-db-credentials', 'uses')).toBe(true);
  expect(has('prod/Cluster/todo-prod/todo-db', 'prod/SealedSecret/todo-prod/todo-db-credentials', 'uses')).toBe(true);
  // The Barman Cloud plugin's ObjectStore holds the store and its key.
  expect(has('prod/Cluster/todo-prod/todo-db', 'prod/ObjectStore/todo-prod/todo-db-backup', 'uses')).toBe(true);
  expect(has('prod/ObjectStore/todo-prod/todo-db-backup', 'prod/SealedSecret/todo-prod/todo-db-backup', 'uses')).toBe(true);
  expect(has('dev/Deployment/todo-dev/todo', 'dev/Secret/todo-dev/todo-db-dev-credentials', 'uses')).toBe(true);
  // Only what no one commits: the webhook certificate CloudNativePG's operator generates for itself.
  expect(edges.filter(e => e.target.endsWith('(outside git)')).map(e => e.target)).toEqual(['ext:platform:Secret cnpg-webhook-cert\n(outside git)']);
  expect(has('apps/Application/argocd/todo-prod', 'dir:prod', 'syncs')).toBe(true);
  expect(has('prod/Ingress/todo-prod/todo', 'prod/Service/todo-prod/todo', 'routes todo.acme.example/')).toBe(true);
});

describe('readable by default, at 1280x800', () => {
  let small: Page;
  beforeAll(async () => {
    small = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    small.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    small.on('pageerror', e => errors.push(String(e)));
    await small.goto(`file://${page}`);
    await small.waitForFunction(() => (globalThis as any).gitopsView !== undefined);
  });

  test('opens on the first environment, every one of its objects on screen with labels of at least 11 px', async () => {
    expect(await small.inputValue('#filter-env')).toBe('dev');
    const view = await small.evaluate(() => {
      const v = (globalThis as any).gitopsView;
      const box = v.cy.container().getBoundingClientRect();
      const nodes = v.cy.nodes('.object:visible');
      return {
        fontPx: v.fontPx * v.cy.zoom(),
        count: nodes.length,
        dirs: [...new Set(nodes.map((n: any) => n.data('parent')))],
        inside: nodes.filter((n: any) => {
          const p = n.renderedPosition();
          return p.x > 0 && p.y > 0 && p.x < box.width && p.y < box.height;
        }).length,
      };
    });
    expect(view.fontPx).toBeGreaterThanOrEqual(11);
    expect(view.dirs).toEqual(['dir:dev']);
    expect(view.count).toBe(head.objects.filter(o => o.directory === 'dev').length + 1);
    expect(view.inside).toBe(view.count);
    expect(errors).toEqual([]);
  });

  test('"/" focuses the search; typing filters the list; arrows and Enter open an object', async () => {
    await small.keyboard.press('/');
    expect(await small.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('search');
    await small.keyboard.type('todo-db');
    const shown = await small.locator('#objects li[data-id]:visible').allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every(t => t.includes('todo-db'))).toBe(true);
    await small.keyboard.press('ArrowDown');
    await small.keyboard.press('Enter');
    expect(await small.locator('#panel h2').textContent()).toBe(shown[0]);
    await small.selectOption('#filter-kind', 'Service');
    await small.locator('#search').fill('');
    await small.locator('#search').dispatchEvent('input');
    const services = await small.locator('#objects li[data-id]:visible').allTextContents();
    expect(services.length).toBeGreaterThan(0);
    expect(services.every(t => t.startsWith('Service '))).toBe(true);
  });
});
