import { ChildProcess, spawn } from 'child_process';
import { LiveViewServer, tokenMatches } from '../../src/review/live-server';
import { classifyDirectory, commonLabels, liveStatus, podState } from '../../src/review/live-state';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const labels = { 'app.kubernetes.io/part-of': 'todo', 'app.kubernetes.io/managed-by': 'cdk8s' };
const config = (name: string, data: Record<string, string>, extra: any = {}) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'todo-dev', labels, ...extra }, data });
const deployment = (replicas: number, status: any = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'todo', namespace: 'todo-dev', labels },
  spec: { replicas, selector: { matchLabels: { app: 'todo' } }, template: { metadata: { labels: { app: 'todo' } } } },
  status,
});
const pod = (name: string, over: any = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'todo-dev', labels: { app: 'todo' }, creationTimestamp: '2026-01-01T11:58:00Z', ...over.metadata },
  spec: { nodeName: 'node-1', containers: [{ name: 'app' }] },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
    containerStatuses: [{ name: 'app', ready: over.ready !== false, restartCount: over.restarts ?? 0, state: over.state ?? { running: {} } }],
  },
});

describe('git against live', () => {
  const git = [config('settings', { a: '1' }), config('gone', { b: '2' }), deployment(1)];
  const live = [
    { ...config('settings', { a: '1' }), metadata: { ...config('settings', {}).metadata, resourceVersion: '7', uid: 'u' } },
    { ...deployment(3, { readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3 }), metadata: { ...deployment(3).metadata, generation: 2 } },
    config('hand-made', { c: '3' }),
    config('unlabelled', { d: '4' }, { labels: { other: 'x' } }),
    { ...config('owned', {}), metadata: { ...config('owned', {}).metadata, ownerReferences: [{ kind: 'SealedSecret', name: 'x' }] } },
    config('kube-root-ca.crt', {}),
    pod('todo-abc'),
  ];
  // The dry run: git's values where it sets them.
  const predicted = [config('settings', { a: '1' }), deployment(1)].map(o => ({ ...o, status: undefined }));
  const states = classifyDirectory({ directory: 'dev', git, live, predicted, now: NOW });
  const of = (name: string) => states.find(s => s.name === name);

  test('in sync, drifted (with the fields a sync would change), missing', () => {
    expect(of('settings')).toMatchObject({ id: 'dev/ConfigMap/todo-dev/settings', status: 'in-sync' });
    expect(of('todo')).toMatchObject({ status: 'drifted', drift: ['spec.replicas'] });
    expect(of('gone')).toMatchObject({ status: 'missing' });
    expect(of('gone')?.summary).toBeUndefined();
  });

  test('extra: live, carrying every label git puts on the directory, owned by nobody; its YAML shown', () => {
    expect(states.filter(s => s.status === 'extra').map(s => s.name)).toEqual(['hand-made']);
    expect(of('hand-made')?.yaml).toContain('name: hand-made');
  });

  test('extra also when Argo CD tracks it for the directory\'s Application, labels or not', () => {
    const tracked = config('tracked', {}, { labels: {}, annotations: { 'argocd.argoproj.io/tracking-id': 'todo-dev:/ConfigMap:todo-dev/tracked' } });
    const result = classifyDirectory({ directory: 'dev', git, live: [...live, tracked], predicted, application: 'todo-dev', now: NOW });
    expect(result.filter(s => s.status === 'extra').map(s => s.name)).toEqual(['hand-made', 'tracked']);
  });

  test('an extra Secret\'s values are never shown', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'todo-dev', labels }, data: { password: 'c2VjcmV0' } };
    const [state] = classifyDirectory({ directory: 'dev', git, live: [secret], predicted, now: NOW }).filter(s => s.status === 'extra');
    expect(state.yaml).toContain('password: (redacted)');
    expect(state.yaml).not.toContain('c2VjcmV0');
  });

  test('without a dry run, live objects are "unknown", not in sync', () => {
    const result = classifyDirectory({ directory: 'dev', git, live, now: NOW });
    expect(result.find(s => s.name === 'settings')?.status).toBe('unknown');
  });

  test('against a stale dry run (a fresh one under way) only fields the dry run sets count: a hand-added label waits for the fresh one', () => {
    const edited = live.map(o => (o.kind === 'Deployment' ? { ...o, metadata: { ...o.metadata, labels: { ...labels, hand: 'made' } } } : o));
    const stale = classifyDirectory({ directory: 'dev', git, live: edited, predicted, predictedStale: true, now: NOW });
    expect(stale.find(s => s.name === 'todo')).toMatchObject({ status: 'drifted', drift: ['spec.replicas'] });
    const fresh = classifyDirectory({ directory: 'dev', git, live: edited, predicted, now: NOW });
    expect(fresh.find(s => s.name === 'todo')?.drift).toEqual(['metadata.labels.hand', 'spec.replicas']);
  });

  test('labels common to every object', () => {
    expect(commonLabels([config('a', {}), { metadata: { labels: { 'app.kubernetes.io/part-of': 'todo', 'x': 'y' } } }])).toEqual({ 'app.kubernetes.io/part-of': 'todo' });
  });
});

describe('status summaries', () => {
  test('a Deployment: ready, updated, available replicas and its pods', () => {
    const s = liveStatus(deployment(2, { readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 }), [pod('todo-b'), pod('todo-a', { ready: false }), pod('db', { metadata: { labels: { app: 'db' } } })], [], NOW);
    expect(s.summary).toBe('1/2 ready, 2 updated, 1 available');
    expect(s.health).toBe('progressing');
    expect(s.pods?.map(p => p.name)).toEqual(['todo-a', 'todo-b']);
  });

  test('a pod: phase, readiness, restarts, node, age, and why it waits', () => {
    expect(podState(pod('todo-a', { restarts: 4, ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } } }), NOW)).toEqual({
      name: 'todo-a',
      namespace: 'todo-dev',
      phase: 'Running',
      ready: false,
      readyContainers: '0/1',
      restarts: 4,
      node: 'node-1',
      ageSeconds: 120,
      reason: 'CrashLoopBackOff',
      containers: ['app'],
    });
    expect(podState(pod('todo-b', { metadata: { deletionTimestamp: '2026-01-01T12:00:00Z' } }), NOW).phase).toBe('Terminating');
    expect(liveStatus(deployment(1, { readyReplicas: 0 }), [pod('todo-a', { ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } } })], [], NOW).health).toBe('degraded');
  });

  test('a StatefulSet: ready replicas and the claims of its templates, bound and sized', () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'todo-db', namespace: 'todo-dev' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'db' } }, volumeClaimTemplates: [{ metadata: { name: 'data' } }] },
      status: { readyReplicas: 1 },
    };
    const claim = { kind: 'PersistentVolumeClaim', metadata: { name: 'data-todo-db-0', namespace: 'todo-dev' }, status: { phase: 'Bound', capacity: { storage: '1Gi' } } };
    expect(liveStatus(sts, [], [claim], NOW)).toMatchObject({ summary: '1/1 ready, claims data-todo-db-0 Bound 1Gi', health: 'healthy', claims: [{ name: 'data-todo-db-0', phase: 'Bound', size: '1Gi' }] });
    expect(liveStatus(claim, [], [], NOW)).toMatchObject({ summary: 'Bound, 1Gi', health: 'healthy' });
  });

  test('an Argo CD Application: sync status, health, revision, last operation', () => {
    const app = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'todo-dev', namespace: 'argocd' },
      status: { sync: { status: 'OutOfSync', revision: '0123456789abcdef' }, health: { status: 'Healthy' }, operationState: { phase: 'Succeeded', message: 'successfully synced' } },
    };
    expect(liveStatus(app, [], [], NOW)).toEqual({
      summary: 'OutOfSync, Healthy at 0123456',
      health: 'progressing',
      application: { name: 'todo-dev', sync: 'OutOfSync', health: 'Healthy', revision: '0123456789abcdef', operation: 'Succeeded: successfully synced' },
    });
  });
});

describe('the server', () => {
  let server: LiveViewServer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await LiveViewServer.start({
      page: nonce => `<script nonce="${nonce}"></script>`,
      source: {
        state: { readAt: 'now', directories: [] },
        events: async (namespace, kind, name) => [{ namespace, kind, name }],
        logs: () => { const c = spawn('echo', ['a log line']); children.push(c); return c; },
      },
    });
  });
  afterAll(() => server.close());

  test('tokens compare whole, whatever their length', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'ab')).toBe(false);
    expect(tokenMatches('abc', undefined)).toBe(false);
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
  });

  test('403 without the token or with another; 200 with it in the URL or the cookie it sets', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    expect(server.url).toBe(`${base}/?token=${server.token}`);
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/api/state`)).status).toBe(403);
    expect((await fetch(`${base}/api/state?token=${'0'.repeat(64)}`)).status).toBe(403);
    expect((await fetch(`${base}/api/state`, { headers: { cookie: 'gitops_view_token=nope' } })).status).toBe(403);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const nonce = /'nonce-([^']+)'/.exec(page.headers.get('content-security-policy')!)![1];
    expect(await page.text()).toBe(`<script nonce="${nonce}"></script>`);
    const state = await fetch(`${base}/api/state`, { headers: { cookie: cookie.split(';')[0] } });
    expect(state.status).toBe(200);
    expect(await state.json()).toEqual({ readAt: 'now', directories: [] });
    expect((await fetch(`${base}/api/events?namespace=n&kind=Pod&name=p`, { headers: { cookie: cookie.split(';')[0] } })).status).toBe(200);
    const log = await fetch(`${base}/api/logs?namespace=n&pod=p`, { headers: { cookie: cookie.split(';')[0] } });
    expect(await log.text()).toBe('a log line\n');
  });

  test('only GET: the view never changes anything', async () => {
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });
});
