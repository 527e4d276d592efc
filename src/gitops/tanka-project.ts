import * as path from 'path';
import { IN_CLUSTER } from '../argocd/sources';

/** Where `tk diff`, `tk apply` and `tk prune` of one Tanka environment connect. */
export interface TankaEnvironmentOptions {
  /**
   * URL of the cluster's API server: `tk` uses the kubeconfig context whose
   * cluster has this `server`. Not together with `contextNames`.
   * @default - the environment's `server` when it is set to an address other
   * than the in-cluster one; otherwise `contextNames` decides
   */
  readonly apiServer?: string;
  /**
   * Kubeconfig contexts `tk` may use, the first one present wins. Not
   * together with `apiServer`.
   * @default - [<environment name>] when there is no `apiServer`: a context
   * named like the environment (`dev`, `prod`)
   */
  readonly contextNames?: readonly string[];
}

/** Options of the Tanka project a {@link GitOpsRepository} writes beside its tree. */
export interface TankaProjectOptions {
  /**
   * Directory of the Tanka project, relative to the directory that holds the
   * synthesized tree (the repository root for the default `dist`); replaced
   * as a whole on every synth, like the tree and the Helm chart.
   * @default 'tanka'
   */
  readonly directory?: string;
  /**
   * Where each environment's `tk diff`/`apply`/`prune` connect, by
   * environment name.
   * @default - every environment with the defaults of {@link TankaEnvironmentOptions}
   */
  readonly environments?: Readonly<Record<string, TankaEnvironmentOptions>>;
}

/** The `spec` of a Tanka environment's spec.json. @internal */
export interface TankaEnvironmentSpec {
  readonly apiServer?: string;
  readonly contextNames?: readonly string[];
  readonly namespace: string;
  readonly applyStrategy: 'server';
  readonly diffStrategy: 'server';
  readonly injectLabels: true;
  readonly resourceDefaults: Record<string, never>;
  readonly expectVersions: Record<string, never>;
}

/** One environment to write: its name, its spec and its synthesized objects. @internal */
export interface TankaEnvironmentInput {
  readonly name: string;
  readonly spec: TankaEnvironmentSpec;
  readonly objects: readonly any[];
}

const URL_PATTERN = /^https?:\/\/[^\s/]+(\/\S*)?$/;

/**
 * Checks the options against the repository's environments and resolves
 * each environment's connection; `fail` throws the repository's
 * ValidationError. @internal
 */
export function resolveTankaProject(
  options: TankaProjectOptions,
  environments: ReadonlyArray<{ readonly name: string; readonly namespace: string; readonly server?: string }>,
  manifestsPath: string,
  fail: (message: string) => never,
): { directory: string; specs: TankaEnvironmentSpec[] } {
  const directory = options.directory ?? 'tanka';
  const normalized = path.posix.normalize(directory.replace(/\\/g, '/')).replace(/\/$/, '');
  if (directory.trim() === '' || path.isAbsolute(directory) || normalized === '.' || normalized.startsWith('..')) {
    fail(`tanka.directory "${directory}" must be a relative path inside the repository, like "tanka": the project is replaced as a whole on every synth`);
  }
  const manifests = path.posix.normalize(manifestsPath).replace(/\/$/, '');
  if (normalized === manifests || normalized.startsWith(`${manifests}/`) || manifests.startsWith(`${normalized}/`)) {
    fail(`tanka.directory "${directory}" overlaps manifestsPath "${manifestsPath}": Argo CD reads every .json there as a manifest; choose a directory beside it, like "tanka"`);
  }
  const names = environments.map(e => e.name);
  for (const name of Object.keys(options.environments ?? {})) {
    if (!names.includes(name)) fail(`tanka.environments.${name}: "${name}" is not one of the environments (${names.join(', ')})`);
  }
  const specs = environments.map(env => {
    const at = `tanka.environments.${env.name}`;
    const given = options.environments?.[env.name] ?? {};
    if (given.apiServer !== undefined && given.contextNames !== undefined) {
      fail(`${at}: both apiServer "${given.apiServer}" and contextNames ${JSON.stringify(given.contextNames)} are set: tk connects by one of them, remove the other`);
    }
    if (given.apiServer !== undefined && !URL_PATTERN.test(given.apiServer)) {
      fail(`${at}.apiServer "${given.apiServer}" is not an http(s) URL like https://prod.k8s.example:6443 (the server of a kubeconfig cluster)`);
    }
    if (given.contextNames !== undefined) {
      if (given.contextNames.length === 0) fail(`${at}.contextNames is empty: name at least one kubeconfig context, or set apiServer instead`);
      given.contextNames.forEach((context, i) => {
        if (typeof context !== 'string' || context.trim() === '') fail(`${at}.contextNames[${i}] "${context}" is not a kubeconfig context name`);
      });
    }
    const server = env.server !== undefined && env.server !== IN_CLUSTER ? env.server : undefined;
    const apiServer = given.apiServer ?? (given.contextNames === undefined ? server : undefined);
    const connection = apiServer !== undefined ? { apiServer } : { contextNames: [...given.contextNames ?? [env.name]] };
    return {
      ...connection,
      namespace: env.namespace,
      // Server-side apply and diff, as Argo CD syncs (ServerSideApply=true): the API server merges and
      // defaults, so a diff right after an apply is empty; `tk prune` finds objects by the injected label.
      applyStrategy: 'server' as const,
      diffStrategy: 'server' as const,
      injectLabels: true as const,
      resourceDefaults: {},
      expectVersions: {},
    };
  });
  return { directory: normalized, specs };
}

/**
 * The key of a kind in an environment's objects: lower camel case plural,
 * like the Helm chart's values (`deployments`, `statefulSets`,
 * `networkPolicies`, `ingresses`).
 */
export function tankaKindKey(kind: string): string {
  const camel = kind.charAt(0).toLowerCase() + kind.slice(1);
  if (/[^aeiou]y$/.test(camel)) return `${camel.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(camel)) return `${camel}es`;
  return `${camel}s`;
}

/**
 * An environment's objects keyed by kind and name, kinds and names sorted:
 * `{ deployments: { todo: {...} }, statefulSets: { 'todo-db': {...} } }`.
 * @throws Error naming both objects when two share a kind key and name
 */
export function keyByKindAndName(objects: readonly any[]): Record<string, Record<string, any>> {
  const keyed: Record<string, Record<string, any>> = {};
  for (const obj of objects) {
    const kind = tankaKindKey(obj.kind);
    const name: string = obj.metadata.name;
    const group = keyed[kind] ??= {};
    if (Object.prototype.hasOwnProperty.call(group, name)) {
      const other = group[name];
      throw new Error(`two objects have the key ${kind}["${name}"] (${describe(other)} and ${describe(obj)}): give one of them another name`);
    }
    group[name] = obj;
  }
  return Object.fromEntries(Object.keys(keyed).sort().map(kind =>
    [kind, Object.fromEntries(Object.keys(keyed[kind]).sort().map(name => [name, keyed[kind][name]]))]));
}

function describe(obj: any): string {
  return `${obj.apiVersion} ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}

/**
 * Renders the Tanka project: `tkrc.yaml` (the project root; no
 * jsonnet-bundler dependencies), `lib/<library>/<env>.json` (the objects
 * keyed by kind and name), `lib/<library>/overrides.libsonnet` (helpers for
 * replicas, image and resources) and `environments/<env>/{spec.json,main.jsonnet}`.
 *
 * @returns file name (relative to the project directory) -> content
 * @internal
 */
export function renderTankaProject(
  library: string,
  environments: readonly TankaEnvironmentInput[],
  fail: (message: string) => never,
): Record<string, string> {
  const files: Record<string, string> = {
    'tkrc.yaml': `# Root of a Tanka project generated by cdk8s (GitOpsRepository ${library}); every synth rewrites it.\n`,
    [`lib/${library}/overrides.libsonnet`]: overridesLibrary(library, environments[environments.length - 1]),
  };
  for (const env of environments) {
    const example = exampleWorkload(env.objects);
    let keyed: Record<string, Record<string, any>> = {};
    try {
      keyed = keyByKindAndName(env.objects);
    } catch (e) {
      fail(`tanka: environment ${env.name}: ${(e as Error).message}`);
    }
    files[`lib/${library}/${env.name}.json`] = `${JSON.stringify(keyed, undefined, 2)}\n`;
    files[`environments/${env.name}/spec.json`] = `${JSON.stringify({
      apiVersion: 'tanka.dev/v1alpha1',
      kind: 'Environment',
      metadata: { name: `environments/${env.name}` },
      spec: env.spec,
    }, undefined, 2)}\n`;
    files[`environments/${env.name}/main.jsonnet`] = [
      `// The objects of ${env.name}, generated by cdk8s like the manifests Argo CD syncs; every synth rewrites`,
      '// this project, so do not edit it. Override any field in an environment of your own that imports them:',
      `//   (import '${library}/${env.name}.json') + { ${example.kind}+: { ${jsonnetField(example.name)}+: { spec+: { replicas: 5 } } } }`,
      `// or with the helpers of lib/${library}/overrides.libsonnet.`,
      `import '${library}/${env.name}.json'`,
      '',
    ].join('\n');
  }
  return files;
}

/** lib/<library>/overrides.libsonnet: mixins for the fields teams override most. */
function overridesLibrary(library: string, env: TankaEnvironmentInput): string {
  const example = exampleWorkload(env.objects);
  // Kubernetes names hold no quotes or backslashes, so they go between single quotes as they are.
  const name = `'${example.name}'`;
  const container = `'${example.container}'`;
  const kindArgument = example.kind === 'deployments' ? '' : `, kind='${example.kind}'`;
  return `// Helpers for the fields teams override most, as mixins on the objects of lib/${library}/<env>.json:
//
//   local o = import '${library}/overrides.libsonnet';
//   (import '${library}/${env.name}.json')
//   + o.replicas(${name}, 5${kindArgument})
//   + o.image(${name}, ${container}, 'registry.example/image@sha256:...'${kindArgument})
//   + o.resources(${name}, ${container}, { limits: { memory: '512Mi' } }${kindArgument})
//
// \`name\` is the object's name, \`kind\` its key in the objects: 'deployments' (the default),
// 'statefulSets' or 'cronJobs'. A name, kind or container that is not there is an error, not a
// silently added object that Tanka would skip for lacking apiVersion and kind.
// Anything else: plain Jsonnet, e.g. + { services+: { todo+: { spec+: { type: 'NodePort' } } } }.
{
  // Where each kind keeps its pod spec.
  local podSpecPaths = {
    deployments: ['spec', 'template', 'spec'],
    statefulSets: ['spec', 'template', 'spec'],
    cronJobs: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },

  // Mixes \`patch\` into the object at \`path\` (each level with +:).
  local at(path, patch) = if std.length(path) == 0 then patch else { [path[0]]+: at(path[1:], patch) },

  // Mixes \`patch\` into the object <kind>.<name>, which must exist.
  local workload(kind, name, patch) = {
    assert std.objectHas(podSpecPaths, kind) : 'kind must be one of %s, not %s' % [std.objectFields(podSpecPaths), kind],
    assert kind in super && std.objectHas(super[kind], name)
           : 'there is no %s named %s (there are: %s)' % [kind, name, if kind in super then std.objectFields(super[kind]) else []],
    [kind]+: { [name]+: patch },
  },

  // Replaces the container named \`containerName\` of <kind>.<name> with f(container).
  local container(kind, name, containerName, f) = workload(kind, name, at(podSpecPaths[kind], {
    assert std.member([c.name for c in super.containers], containerName)
           : '%s %s has no container %s (it has: %s)' % [kind, name, containerName, [c.name for c in super.containers]],
    containers: [if c.name == containerName then f(c) else c for c in super.containers],
  })),

  // spec.replicas of a Deployment or StatefulSet (an autoscaled Deployment's HPA still decides).
  replicas(name, count, kind='deployments')::
    if kind == 'cronJobs' then error 'a CronJob has no replicas: kind must be deployments or statefulSets'
    else workload(kind, name, { spec+: { replicas: count } }),

  // The image of one container (pin it by digest).
  image(name, containerName, image, kind='deployments'):: container(kind, name, containerName, function(c) c { image: image }),

  // A JSON merge patch (RFC 7386) of one container's resources: the fields given replace theirs,
  // null removes one, the rest stays, e.g. { limits: { memory: '512Mi' } }.
  resources(name, containerName, patch, kind='deployments'):: container(kind, name, containerName,
    function(c) c { resources: std.mergePatch(std.get(c, 'resources', {}), patch) }),
}
`;
}

/** The first Deployment (else StatefulSet, else CronJob) and its first container, for the examples in comments. */
function exampleWorkload(objects: readonly any[]): { kind: string; name: string; container: string } {
  for (const kind of ['Deployment', 'StatefulSet', 'CronJob']) {
    const obj = objects.find(o => o.kind === kind);
    const pod = kind === 'CronJob' ? obj?.spec?.jobTemplate?.spec?.template?.spec : obj?.spec?.template?.spec;
    if (obj) return { kind: tankaKindKey(kind), name: obj.metadata.name, container: pod?.containers?.[0]?.name ?? 'app' };
  }
  return { kind: 'deployments', name: 'my-app', container: 'app' };
}

/** A Jsonnet field name for a Kubernetes name: bare when it is an identifier, else single-quoted. */
function jsonnetField(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name}'`;
}
