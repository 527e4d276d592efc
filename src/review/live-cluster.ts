import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import { ApplicationState, classifyDirectory, liveStatus, LiveObjectState, objectKey } from './live-state';
import { kubectlPath, predictDirectory, runKubectl } from './live-tree';
import { ManifestTree } from './manifest-tree';

/** One directory of the tree against the cluster. */
export interface DirectoryState {
  /** The directory: an environment, `apps`, `bootstrap`, ... */
  readonly directory: string;
  /** The namespaces its objects live in. */
  readonly namespaces: string[];
  /** The Argo CD Application that syncs it, when one exists in the cluster. */
  readonly application?: ApplicationState;
  /** Its objects, git beside live, and the extras. */
  readonly objects: LiveObjectState[];
  /** Why drift could not be told (the dry run failed), if it could not. */
  readonly error?: string;
}

/** A snapshot of the whole tree against the cluster. */
export interface LiveViewState {
  /** When the cluster was read (ISO 8601). */
  readonly readAt: string;
  /** Per directory of the tree. */
  readonly directories: DirectoryState[];
  /** Why the cluster could not be read this time (the last good snapshot is kept), if it could not. */
  readonly error?: string;
}

/** One event of an object, as the live view lists it. */
export interface ObjectEvent {
  /** When it last happened (ISO 8601). */
  readonly time: string;
  /** `Normal` or `Warning`. */
  readonly type: string;
  /** Why, in one word: `Scheduled`, `BackOff`, ... */
  readonly reason: string;
  /** What happened. */
  readonly message: string;
  /** How many times. */
  readonly count: number;
}

/** Options of {@link ClusterReader}. */
export interface ClusterReaderOptions {
  /** The synthesized tree's directory (the dry runs apply its files). */
  readonly treeDir: string;
  /** The same tree, read. */
  readonly tree: ManifestTree;
  /** Environment of kubectl (KUBECONFIG, KUBECTL). */
  readonly env: NodeJS.ProcessEnv;
  /** Pause between two reads of the cluster, in milliseconds. */
  readonly intervalMs: number;
  /** Receives each new snapshot. */
  readonly onState: (state: LiveViewState) => void;
}

/** A directory's dry run: what a sync would store, for one state of its live objects. */
interface Prediction {
  /** Hash of the live objects it was made for. */
  readonly hash?: string;
  /** The objects as a sync would store them. */
  readonly objects?: any[];
  /** Made for an earlier state of the live objects (a new one runs). */
  readonly stale?: boolean;
  /** Why it could not be made. */
  readonly error?: string;
}

/** Kinds whose live objects are read beside the tree's own: a workload's pods, a StatefulSet's claims. */
const ALSO_LISTED = ['pod', 'persistentvolumeclaim'];
/** How long a resource type the cluster does not serve (a CRD not installed) is left out before it is tried again. */
const UNSERVED_RETRY_MS = 60_000;
/** Names of things a user selects: namespaces, pods, containers, objects (DNS labels and subdomains). */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

/**
 * Reads the cluster of the kubeconfig, read-only, in a loop: every
 * namespaced kind of the tree (and pods and claims) listed in one
 * `kubectl get -A`, cluster-scoped objects by name, and each directory's
 * server-side dry run again whenever its live objects changed (the drift
 * `diff --cluster` computes). Events and logs are read on demand. Every
 * kubectl it starts is killed by {@link ClusterReader.stop}.
 */
export class ClusterReader {
  private readonly stopping = new AbortController();
  private readonly followers = new Set<ChildProcess>();
  private readonly unserved = new Map<string, number>();
  private readonly predictions = new Map<string, Prediction>();
  private readonly pending = new Map<string, { hash: string; token: object; result: Promise<Prediction> }>();
  /** Ends the pause between two reads early (a fresh dry run is in). */
  private wake?: () => void;
  private readonly namespaces: Set<string>;
  private loop?: Promise<void>;
  private last?: LiveViewState;

  constructor(private readonly options: ClusterReaderOptions) {
    this.namespaces = new Set(options.tree.objects.map(o => o.object.metadata?.namespace).filter(Boolean));
  }

  /** The namespaces of the tree: the only ones events and logs are read from. */
  public get treeNamespaces(): readonly string[] {
    return [...this.namespaces].sort();
  }

  /** The last snapshot, if the cluster was read yet. */
  public get state(): LiveViewState | undefined {
    return this.last;
  }

  /** Starts reading; the first snapshot arrives through `onState`. */
  public start(): void {
    this.loop ??= this.run();
  }

  /** Stops reading and kills every kubectl started, log followers included. */
  public async stop(): Promise<void> {
    this.stopping.abort();
    for (const child of this.followers) child.kill('SIGTERM');
    await this.loop;
  }

  /**
   * The recent events of one object, oldest first.
   * @throws Error for a namespace outside the tree or a malformed name
   */
  public async events(namespace: string, kind: string, name: string): Promise<ObjectEvent[]> {
    this.checkNamespace(namespace);
    if (!KIND.test(kind) || !NAME.test(name)) throw new Error(`not a kind and name: "${kind}" "${name}"`);
    const out = await runKubectl(['get', 'events', '-n', namespace, '--field-selector', `involvedObject.kind=${kind},involvedObject.name=${name}`, '-o', 'json'],
      this.options.env, this.stopping.signal);
    return (JSON.parse(out).items as any[])
      .map(e => ({
        time: String(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? ''),
        type: String(e.type ?? ''),
        reason: String(e.reason ?? ''),
        message: String(e.message ?? ''),
        count: Number(e.count ?? 1),
      }))
      .sort((a, b) => a.time.localeCompare(b.time))
      .slice(-50);
  }

  /**
   * Starts `kubectl logs` of a pod's container: its last `tail` lines, then,
   * with `follow`, what it writes until the returned child is killed (the
   * caller kills it when the reader goes away; {@link stop} kills it too).
   * @throws Error for a namespace outside the tree or a malformed name
   */
  public logs(namespace: string, pod: string, container: string | undefined, tail: number, follow: boolean): ChildProcess {
    this.checkNamespace(namespace);
    if (!NAME.test(pod) || (container !== undefined && !NAME.test(container))) throw new Error(`not a pod and container name: "${pod}" "${container ?? ''}"`);
    const child = spawn(kubectlPath(this.options.env), ['logs', '-n', namespace, pod, ...(container ? ['-c', container] : []),
      `--tail=${Number.isFinite(tail) ? Math.max(1, Math.min(5000, Math.floor(tail))) : 200}`, ...(follow ? ['-f'] : [])], { env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.followers.add(child);
    child.on('close', () => this.followers.delete(child));
    // A missing kubectl is reported through the output streams' end, not as an uncaught error.
    child.on('error', () => undefined);
    return child;
  }

  private checkNamespace(namespace: string): void {
    if (!this.namespaces.has(namespace)) throw new Error(`namespace "${namespace}" is not one of the tree's (${this.treeNamespaces.join(', ')})`);
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        this.last = await this.read();
      } catch (e) {
        if (signal.aborted) break;
        this.last = { readAt: new Date().toISOString(), directories: this.last?.directories ?? [], error: (e as Error).message };
      }
      this.options.onState(this.last);
      await new Promise<void>(resolve => {
        // The listener goes with the pause: one per read would pile up on the signal.
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, this.options.intervalMs - (Date.now() - started)));
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
  }

  /** One snapshot: list, dry-run what changed, classify. */
  private async read(): Promise<LiveViewState> {
    const { tree, env } = this.options;
    const signal = this.stopping.signal;
    const git = tree.objects.map(o => o.object);
    const namespaced = [...new Set([...git.filter(o => o.metadata?.namespace).map(resourceOf), ...ALSO_LISTED])];
    const listed = (await this.listServed(namespaced)).filter(o => this.namespaces.has(o.metadata?.namespace));
    const clusterScoped = git.filter(o => !o.metadata?.namespace).map(o => `${resourceOf(o)}/${o.metadata?.name}`);
    if (clusterScoped.length) listed.push(...parseList(await runKubectl(['get', ...clusterScoped, '--ignore-not-found', '-o', 'json'], env, signal)));
    const live = new Map(listed.map(o => [objectKey(o), o]));

    const directories: DirectoryState[] = [];
    const applications = listed.filter(o => o.kind === 'Application' && o.apiVersion?.startsWith('argoproj.io/'));
    for (const directory of tree.directories) {
      const objects = tree.objects.filter(o => o.directory === directory).map(o => o.object);
      const prediction = await this.predict(directory, objects.map(o => live.get(objectKey(o))).filter(Boolean));
      const app = applications.find(a => String(a.spec?.source?.path ?? '').split('/').pop() === directory);
      const states = classifyDirectory({
        directory,
        git: objects,
        live: listed,
        now: Date.now(),
        ...(prediction.objects ? { predicted: prediction.objects, predictedStale: prediction.stale === true } : {}),
        ...(app ? { application: String(app.metadata.name) } : {}),
      });
      const appState = app && liveStatus(app, [], [], Date.now()).application;
      directories.push({
        directory,
        namespaces: [...new Set(objects.map(o => o.metadata?.namespace).filter(Boolean))].sort(),
        ...(appState ? { application: appState } : {}),
        objects: states,
        ...(prediction.error ? { error: prediction.error } : {}),
      });
    }
    return { readAt: new Date().toISOString(), directories };
  }

  /**
   * The directory's dry run, made again only when its live objects changed
   * (their fields, not their status): a sync's result depends on nothing else.
   * Not made while none of its objects exists: nothing can have drifted.
   * While a new dry run runs, the last one answers (marked stale), so a hand
   * edit shows at the next read rather than a dry run later; the new one
   * wakes the loop as soon as it is in.
   */
  private async predict(directory: string, live: any[]): Promise<Prediction> {
    if (live.length === 0) return {};
    const fields = live.map(o => ({ ...o, status: undefined, metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined } }));
    const hash = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
    const known = this.predictions.get(directory);
    if (known?.hash === hash) return known;
    const fresh = this.dryRun(directory, hash);
    return known?.objects ? { ...known, stale: true } : fresh;
  }

  /** Runs (once per state of the live objects) the dry run of `directory`; never rejects. */
  private dryRun(directory: string, hash: string): Promise<Prediction> {
    const running = this.pending.get(directory);
    if (running?.hash === hash) return running.result;
    const token = {};
    const result = (async (): Promise<Prediction> => {
      let prediction: Prediction;
      try {
        const objects = await predictDirectory(this.options.treeDir, directory, this.options.env, this.stopping.signal);
        prediction = { hash, objects: objects.map(o => o.object) };
      } catch (e) {
        prediction = { hash, error: `drift unknown: the server-side dry run of ${directory}/ failed: ${(e as Error).message}` };
      }
      if (this.stopping.signal.aborted) return prediction;
      this.predictions.set(directory, prediction);
      if (this.pending.get(directory)?.token === token) this.pending.delete(directory);
      this.wake?.();
      return prediction;
    })();
    this.pending.set(directory, { hash, token, result });
    return result;
  }

  /**
   * Lists `resources` across all namespaces in one kubectl, leaving out those
   * the cluster does not serve (a CRD not installed: Argo CD's Application
   * where Argo CD is not), found by trying each alone after a failure.
   */
  private async listServed(resources: string[]): Promise<any[]> {
    const now = Date.now();
    const wanted = resources.filter(r => (this.unserved.get(r) ?? 0) <= now);
    const list = (names: string[]) =>
      runKubectl(['get', names.join(','), '--all-namespaces', '-o', 'json'], this.options.env, this.stopping.signal).then(parseList);
    try {
      return await list(wanted);
    } catch (e) {
      if (this.stopping.signal.aborted) throw e;
      const served: string[] = [];
      for (const r of wanted) {
        const ok = await list([r]).then(() => true, () => false);
        if (ok) served.push(r);
        else this.unserved.set(r, now + UNSERVED_RETRY_MS);
      }
      if (served.length === 0) throw e;
      return list(served);
    }
  }
}

/** kubectl's name of an object's resource type: `deployment.apps`, `configmap`. */
function resourceOf(o: any): string {
  const apiVersion: string = o.apiVersion ?? '';
  return `${String(o.kind).toLowerCase()}${apiVersion.includes('/') ? `.${apiVersion.split('/')[0]}` : ''}`;
}

function parseList(stdout: string): any[] {
  const out = JSON.parse(stdout || '{"items":[]}');
  return out.kind === 'List' ? out.items : [out];
}
