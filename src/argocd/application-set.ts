import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { RESOURCES_FINALIZER } from './application';
import { checkRepoPath } from './sources';
import { applicationSpec, ArgoCdSyncOptions } from './sync-options';
import { toJson_ApplicationSpec } from '../../imports/argocd-application-argoproj.io';
import { checkDnsLabel } from '../common/checks';
import { ValidationError } from '../common/validation-error';

/** One environment of a fleet: a directory of the repository, deployed into one namespace of each of its clusters. */
export interface FleetEnvironment {
  /**
   * Environment name: what a cluster is matched by (its label value, or its
   * `environment` in a list) and part of each generated Application's name.
   */
  readonly name: string;
  /** Directory of the environment's manifests, relative to the repository root (e.g. `dist/prod`). */
  readonly path: string;
  /** Namespace the environment is deployed to on each of its clusters. */
  readonly namespace: string;
}

/** A cluster of a {@link FleetClusters.fromList} fleet. */
export interface FleetCluster {
  /** The cluster's name as registered in Argo CD: a DNS label, part of its Application's name. */
  readonly name: string;
  /** The cluster's API server URL, as registered in Argo CD. */
  readonly server: string;
  /** Name of the environment the cluster runs. */
  readonly environment: string;
}

/**
 * One ApplicationSet generator. Every generator of {@link FleetClusters}
 * hands the template the same parameters: the cluster's `name`,
 * `nameNormalized` and `server`, and the environment's `values.environment`,
 * `values.path` and `values.namespace`.
 */
export interface ApplicationSetGenerator {
  /** Argo CD's cluster generator: the registered clusters whose Secret matches the selector. */
  readonly clusters?: { readonly selector: { readonly matchLabels: Record<string, string> }; readonly values: Record<string, string> };
  /** Argo CD's list generator: one parameter set per element. */
  readonly list?: { readonly elements: ReadonlyArray<Record<string, unknown>> };
}

/** Which clusters run which environment: the generators of an {@link ArgoCdApplicationSet}. */
export abstract class FleetClusters {
  /**
   * Every cluster registered in Argo CD (a cluster Secret in Argo CD's
   * namespace) whose Secret carries `label` with an environment's name as
   * its value. A cluster joins or leaves the fleet by labelling its Secret;
   * no commit is needed. The cluster Argo CD runs in is included only if it
   * is registered by a Secret too.
   */
  public static fromLabel(label: string): FleetClusters {
    return new LabelledClusters(label);
  }

  /** A fixed list of clusters, each running one environment. */
  public static fromList(clusters: ReadonlyArray<FleetCluster>): FleetClusters {
    return new ListedClusters(clusters);
  }

  /** The generators for `environments`; validates against them, failing at `scope`. */
  public abstract generators(scope: IConstruct, environments: ReadonlyArray<FleetEnvironment>): ApplicationSetGenerator[];
}

/** Label keys: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The template parameters of one environment (`values.*`). */
function environmentValues(env: FleetEnvironment): Record<string, string> {
  return { environment: env.name, path: env.path, namespace: env.namespace };
}

class LabelledClusters extends FleetClusters {
  constructor(private readonly label: string) {
    super();
  }

  public generators(scope: IConstruct, environments: ReadonlyArray<FleetEnvironment>): ApplicationSetGenerator[] {
    if (!LABEL_KEY.test(this.label) || this.label.length > 317) {
      ValidationError.fail(scope, `clusters label "${this.label}" is not a label key: use a name like "acme.io/environment" (an optional DNS prefix and '/', then letters, digits, '-', '_' and '.')`);
    }
    // One cluster generator per environment, so each carries its environment's values.
    return environments.map(env => ({
      clusters: { selector: { matchLabels: { [this.label]: env.name } }, values: environmentValues(env) },
    }));
  }
}

class ListedClusters extends FleetClusters {
  constructor(private readonly clusters: ReadonlyArray<FleetCluster>) {
    super();
  }

  public generators(scope: IConstruct, environments: ReadonlyArray<FleetEnvironment>): ApplicationSetGenerator[] {
    if (this.clusters.length === 0) ValidationError.fail(scope, 'clusters is an empty list: list at least one cluster, or use FleetClusters.fromLabel');
    const names = new Set<string>();
    const elements = this.clusters.map((cluster, i) => {
      const at = `clusters[${i}]`;
      checkDnsLabel(scope, `${at}.name`, cluster.name);
      if (names.has(cluster.name)) ValidationError.fail(scope, `${at}: cluster name "${cluster.name}" is listed twice: each cluster gets one Application`);
      names.add(cluster.name);
      if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(cluster.server)) {
        ValidationError.fail(scope, `${at}: server "${cluster.server}" is not an https:// API server URL: use the URL the cluster is registered with in Argo CD`);
      }
      const env = environments.find(e => e.name === cluster.environment);
      if (!env) {
        ValidationError.fail(scope, `${at}: environment "${cluster.environment}" is not one of the environments (${environments.map(e => e.name).join(', ')})`);
      }
      return { name: cluster.name, nameNormalized: cluster.name, server: cluster.server, values: environmentValues(env!) };
    });
    return [{ list: { elements } }];
  }
}

/** Props of {@link ArgoCdApplicationSet}. */
export interface ArgoCdApplicationSetProps extends ArgoCdSyncOptions {
  /**
   * ApplicationSet name.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Prefix of the generated Applications' names: `<prefix>-<environment>-<cluster>`.
   * @default - the ApplicationSet's name
   */
  readonly applicationPrefix?: string;
  /** The environments; each is deployed to every cluster the generators give it. */
  readonly environments: ReadonlyArray<FleetEnvironment>;
  /** Which clusters run which environment. */
  readonly clusters: FleetClusters;
  /**
   * Whether deleting a generated Application also deletes what it deployed
   * (the resources finalizer). That happens when its cluster leaves the
   * fleet, so with it, unlabelling a cluster Secret, or a typo in its label,
   * deletes that cluster's workloads and their volume claims. Argo CD's own
   * `preserveResourcesOnDeletion` only covers deleting the whole ApplicationSet.
   * @default false: a cluster that leaves keeps running what it ran, no longer synced
   */
  readonly cascadeDelete?: boolean;
}

/**
 * An Argo CD ApplicationSet that deploys each environment to every cluster
 * that runs it: one Application per cluster and environment, named
 * `<prefix>-<environment>-<cluster>`, with the same sync settings as
 * {@link ArgoCdApplication} (automated prune and self-heal, CreateNamespace
 * with Pod Security "restricted", server-side apply, retry). Unlike an
 * ArgoCdApplication, a generated Application leaves what it deployed in
 * place when it is deleted, unless `cascadeDelete` is set.
 *
 * Its generated classes would be 3.7 MB of TypeScript (each nested generator
 * of the CRD repeats the whole Application template), so the envelope is
 * typed here and the template's spec with the generated Application types.
 * The CRD is over 256 KiB: install it with `kubectl apply --server-side`.
 */
export class ArgoCdApplicationSet extends Construct {
  /** The ApplicationSet's name. */
  public readonly applicationSetName: string;

  constructor(scope: Construct, id: string, props: ArgoCdApplicationSetProps) {
    super(scope, id);
    this.applicationSetName = checkDnsLabel(this, 'name', props.name ?? id);
    const prefix = checkDnsLabel(this, 'applicationPrefix', props.applicationPrefix ?? this.applicationSetName);
    if (props.environments.length === 0) ValidationError.fail(this, 'environments is empty: list at least one environment');
    const seen = new Set<string>();
    props.environments.forEach((env, i) => {
      const at = `environments[${i}]`;
      checkDnsLabel(this, `${at}.name`, env.name);
      if (seen.has(env.name)) ValidationError.fail(this, `${at}: environment "${env.name}" is listed twice`);
      seen.add(env.name);
      checkRepoPath(this, env.path);
      checkDnsLabel(this, `${at}.namespace`, env.namespace);
    });
    const generators = props.clusters.generators(this, props.environments);
    const cascadeDelete = props.cascadeDelete ?? false;

    new ApiObject(this, 'Resource', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: {
        name: this.applicationSetName,
        namespace: checkDnsLabel(this, 'argoCdNamespace', props.argoCdNamespace ?? 'argocd'),
      },
      spec: {
        // Go templates, failing on a parameter a generator does not give rather than rendering "<no value>".
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators,
        template: {
          metadata: {
            name: `${prefix}-{{.values.environment}}-{{.nameNormalized}}`,
            ...(cascadeDelete ? { finalizers: [RESOURCES_FINALIZER] } : {}),
          },
          spec: toJson_ApplicationSpec(applicationSpec(this, props, {
            path: '{{.values.path}}',
            server: '{{.server}}',
            namespace: '{{.values.namespace}}',
          })),
        },
        syncPolicy: { preserveResourcesOnDeletion: !cascadeDelete },
      },
    });
  }
}
