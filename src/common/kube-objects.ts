import { ApiObject, ApiObjectMetadataDefinition, ApiObjectMetadataDefinitionOptions, JsonPatch, OwnerReference } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from './k8s';
import { hasBuiltInResolversOnly, plainJson, STOPPED } from './plain-json';

/**
 * The props keys that cdk8s-plus-27's generated conversions rename on the
 * way to the wire (`clusterIp` -> `clusterIP`, `ref` -> `$ref`, ...): every
 * other key of the generated props is its wire name. An object holding one of
 * them anywhere (also as a key of a map, where it is not renamed) takes the
 * generated path, unless its kind renames it in place ({@link SpecRenames}).
 * test/kube-objects.test.ts checks the list against the generated code.
 */
export const RENAMED_PROPS_KEYS: ReadonlySet<string> = new Set([
  'clientIp', 'clusterIp', 'datasetUuid', 'diskUri', 'downwardApi', 'externalId', 'hostIp', 'hostIpc', 'hostPid',
  'insecureSkipTlsVerify', 'loadBalancerIp', 'nodeId', 'nonResourceUrLs', 'openApiv3Schema', 'pdId', 'podCidr',
  'podCidRs', 'providerId', 'ref', 'scaleIo', 'schema', 'setHostnameAsFqdn', 'storagePolicyId',
  'targetCpuUtilizationPercentage', 'targetWwNs', 'volumeId', 'xKubernetesEmbeddedResource', 'xKubernetesIntOrString',
  'xKubernetesListMapKeys', 'xKubernetesListType', 'xKubernetesMapType', 'xKubernetesPreserveUnknownFields',
  'xKubernetesValidations',
]);

type KubeKind = new (scope: Construct, id: string, props?: any) => ApiObject;

/**
 * Props keys of a kind's `spec` and their wire names, for a kind whose spec
 * the conversion renames: there they are renamed, not stopped at (for the
 * headless Service of every Postgres the generated path cost 80 µs an object,
 * against 10 for the walk).
 */
type SpecRenames = ReadonlyMap<string, string>;

/**
 * A generated `Kube*` class (same props, same instance type) whose objects
 * serialize in one walk over their props ({@link plainJson}) instead of
 * cdk8s's resolution, its sanitizing and then the generated conversion, which
 * builds every object of the output anew with a spread per key: for 1,000
 * service and database pairs those three were 0.9 of 2.4 seconds.
 *
 * The output is the generated class's, byte for byte: the conversion only
 * renames the keys of {@link RENAMED_PROPS_KEYS}, replaces number-or-string
 * unions by their value and orders keys by the schema, which lists them
 * sorted. Where that does not hold the object takes the generated path: a
 * renamed key (but the `spec` keys the kind lists, renamed in place), JSON
 * patches (the conversion orders and filters what they add),
 * `CDK8S_DISABLE_SORT` (the conversion still orders structs, not maps), or
 * an App with resolvers of its own.
 */
function serializedDirectly<K extends KubeKind>(kind: K, specRenames?: SpecRenames): K {
  const Direct = class extends (kind as KubeKind) {
    private readonly kubeProps: { readonly [key: string]: unknown };
    private patched = false;

    constructor(scope: Construct, id: string, props: { readonly [key: string]: any } = {}) {
      super(scope, id, props);
      this.kubeProps = props;
      // The options ApiObject gives its metadata, from the same inputs (test/kube-objects.test.ts
      // compares the result with a plain ApiObject's).
      (this as { metadata: ApiObjectMetadataDefinition }).metadata = new DirectMetadata({
        name: this.name,
        ...props.metadata,
        namespace: props.metadata?.namespace ?? this.chart.namespace,
        labels: { ...this.chart.labels, ...props.metadata?.labels },
        apiObject: this,
      });
    }

    public addJsonPatch(...ops: JsonPatch[]): void {
      super.addJsonPatch(...ops);
      this.patched = true;
    }

    public toJson(): any {
      if (this.patched || process.env.CDK8S_DISABLE_SORT || !hasBuiltInResolversOnly(this)) return super.toJson();
      const { metadata: _metadata, ...props } = this.kubeProps as Record<string, unknown>;
      if (specRenames) props.spec = renamedKeys(props.spec, specRenames);
      let json: any;
      try {
        const body = plainJson(props, { sortKeys: true, stopAt: RENAMED_PROPS_KEYS });
        if (body !== STOPPED) json = { apiVersion: this.apiVersion, kind: this.kind, metadata: this.metadata.toJson(), ...body };
      } catch (e) {
        throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
      }
      return json ?? super.toJson();
    }
  };
  return Direct as unknown as K;
}

/**
 * An object's metadata that serializes in one walk ({@link plainJson}) rather
 * than through cdk8s's resolve and sanitize (for the 1,000 pairs, 12,000
 * metadata took 0.18 s that way): the same JSON, from its own record of what
 * it was given and what was added through the public methods, which it also
 * passes on to cdk8s's record (read by `getLabel` and the generated path).
 * It owns `options.labels` (a fresh object of its caller's); the rest of
 * what it was given it copies only when something is added.
 */
class DirectMetadata extends ApiObjectMetadataDefinition {
  private readonly described: ApiObject;
  private readonly attributes: { [key: string]: any };
  private readonly labelsGiven: { [key: string]: string };
  private annotationsGiven?: { readonly [key: string]: string };
  private finalizersGiven?: readonly string[];
  private ownersGiven?: readonly OwnerReference[];

  constructor(options: ApiObjectMetadataDefinitionOptions) {
    const { apiObject, ...attributes } = options;
    super(options);
    this.described = apiObject;
    this.attributes = attributes;
    this.labelsGiven = options.labels as { [key: string]: string };
    this.annotationsGiven = options.annotations;
    this.finalizersGiven = options.finalizers;
    this.ownersGiven = options.ownerReferences;
  }

  public addLabel(key: string, value: string): void {
    super.addLabel(key, value);
    this.labelsGiven[key] = value;
  }

  public addAnnotation(key: string, value: string): void {
    super.addAnnotation(key, value);
    this.annotationsGiven = { ...this.annotationsGiven, [key]: value };
  }

  public addFinalizers(...finalizers: string[]): void {
    super.addFinalizers(...finalizers);
    this.finalizersGiven = [...this.finalizersGiven ?? [], ...finalizers];
  }

  public addOwnerReference(owner: OwnerReference): void {
    super.addOwnerReference(owner);
    this.ownersGiven = [...this.ownersGiven ?? [], owner];
  }

  public add(key: string, value: any): void {
    super.add(key, value);
    this.attributes[key] = value;
  }

  public toJson(): any {
    if (!hasBuiltInResolversOnly(this.described)) return super.toJson();
    // The fields in cdk8s's order; its metadata is sorted whatever CDK8S_DISABLE_SORT says.
    return plainJson({
      ...this.attributes,
      name: this.name,
      namespace: this.namespace,
      annotations: this.annotationsGiven,
      finalizers: this.finalizersGiven,
      ownerReferences: this.ownersGiven,
      labels: this.labelsGiven,
    }, { sortKeys: true, dropEmpty: true });
  }
}

/** A plain object with the keys of `renames` renamed; anything else (a token, undefined) as it is. */
function renamedKeys(value: unknown, renames: SpecRenames): unknown {
  if (value === null || typeof value !== 'object' || value.constructor !== Object) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[renames.get(key) ?? key] = item;
  return copy;
}

/** The keys toJson_ServiceSpec renames. */
export const SERVICE_SPEC_RENAMES: SpecRenames = new Map([['clusterIp', 'clusterIP'], ['loadBalancerIp', 'loadBalancerIP']]);

// The kinds this library builds. Types stay cdk8s-plus-27's (`k8s.KubeDeployment`, ...).
export const KubeClusterRole = serializedDirectly(k8s.KubeClusterRole);
export const KubeClusterRoleBinding = serializedDirectly(k8s.KubeClusterRoleBinding);
export const KubeConfigMap = serializedDirectly(k8s.KubeConfigMap);
export const KubeCronJob = serializedDirectly(k8s.KubeCronJob);
export const KubeDeployment = serializedDirectly(k8s.KubeDeployment);
export const KubeHorizontalPodAutoscalerV2 = serializedDirectly(k8s.KubeHorizontalPodAutoscalerV2);
export const KubeIngress = serializedDirectly(k8s.KubeIngress);
export const KubeJob = serializedDirectly(k8s.KubeJob);
export const KubeNamespace = serializedDirectly(k8s.KubeNamespace);
export const KubeNetworkPolicy = serializedDirectly(k8s.KubeNetworkPolicy);
export const KubePersistentVolumeClaim = serializedDirectly(k8s.KubePersistentVolumeClaim);
export const KubePodDisruptionBudget = serializedDirectly(k8s.KubePodDisruptionBudget);
export const KubeRole = serializedDirectly(k8s.KubeRole);
export const KubeRoleBinding = serializedDirectly(k8s.KubeRoleBinding);
export const KubeSecret = serializedDirectly(k8s.KubeSecret);
export const KubeService = serializedDirectly(k8s.KubeService, SERVICE_SPEC_RENAMES);
export const KubeServiceAccount = serializedDirectly(k8s.KubeServiceAccount);
export const KubeStatefulSet = serializedDirectly(k8s.KubeStatefulSet);
