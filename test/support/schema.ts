import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import * as YAML from 'yaml';

/** Vendored schemas and CRDs (see third_party/README.md for their provenance). */
const THIRD_PARTY = path.resolve(__dirname, '..', '..', 'third_party');
const K8S_DEFINITIONS = path.join(THIRD_PARTY, 'kubernetes-schema-v1.27.0', '_definitions.json');
const ARGO_CD_CRDS = path.join(THIRD_PARTY, 'argo-cd-v3.6.1', 'crds');
/** Every vendored CRD the tree's custom objects are validated against. */
const CRD_FILES = [
  ...fs.readdirSync(ARGO_CD_CRDS).map(f => path.join(ARGO_CD_CRDS, f)),
  path.join(THIRD_PARTY, 'sealed-secrets-v0.27.1', 'bitnami.com_sealedsecrets.yaml'),
  path.join(THIRD_PARTY, 'cloudnative-pg-v1.30.0', 'postgresql.cnpg.io_clusters.yaml'),
  path.join(THIRD_PARTY, 'cloudnative-pg-v1.30.0', 'postgresql.cnpg.io_scheduledbackups.yaml'),
  path.join(THIRD_PARTY, 'plugin-barman-cloud-v0.14.0', 'barmancloud.cnpg.io_objectstores.yaml'),
];

type Schema = Record<string, any>;

/**
 * Unknown fields are silently dropped by the API server, so a typo would
 * pass a plain schema check: close every object schema that lists its properties.
 */
function closeObjects(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(closeObjects) as unknown as Schema;
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'properties' ? mapValues(v, closeObjects) : closeObjects(v);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * Fields Kubernetes added after 1.27 that the tree uses, each where the API server of the clusters
 * it runs on (1.37, test/tools/kube) accepts it: a container's `restartPolicy` (native sidecars,
 * 1.28: the Barman Cloud plugin beside CloudNativePG's operator) and a CRD validation rule's
 * `reason` and `fieldPath` (1.28: the plugin's ObjectStore CRD). Anything else newer still fails.
 */
function withNewerFields(definitions: Schema): Schema {
  const add = (name: string, properties: Schema) => {
    definitions[name] = { ...definitions[name], properties: { ...definitions[name].properties, ...properties } };
  };
  add('io.k8s.api.core.v1.Container', { restartPolicy: { type: 'string', enum: ['Always'] } });
  add('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule', { reason: { type: 'string' }, fieldPath: { type: 'string' } });
  return definitions;
}

function mapValues(o: Schema, f: (s: Schema) => Schema): Schema {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** Validates Kubernetes objects against the 1.27 API schema and the vendored CRD schemas (Argo CD, Sealed Secrets, CloudNativePG). */
export class SchemaValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly byGvk = new Map<string, ValidateFunction>();
  /** CRD kinds by `group|kind`: the validator of an apiVersion, compiled on first use. */
  private readonly crdKinds = new Map<string, (apiVersion: string) => ValidateFunction | undefined>();

  constructor() {
    const definitions = closeObjects(withNewerFields(JSON.parse(fs.readFileSync(K8S_DEFINITIONS, 'utf-8')).definitions));
    this.ajv.addSchema({ $id: 'k8s', definitions });
    for (const [name, def] of Object.entries(definitions)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
        const key = gvkKey(gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version, gvk.kind);
        if (!this.byGvk.has(key)) this.byGvk.set(key, this.ajv.getSchema(`k8s#/definitions/${name}`)!);
      }
    }
    for (const file of CRD_FILES) {
      // Parsed and compiled when first used: the ApplicationSet CRD alone takes about 7 s.
      const text = fs.readFileSync(file, 'utf-8');
      const group = /^ {2}group: (\S+)$/m.exec(text)?.[1];
      const kind = /^ {4}kind: (\S+)$/m.exec(text)?.[1];
      if (!group || !kind) throw new Error(`${file}: no spec.group or spec.names.kind found`);
      let compiled: Map<string, ValidateFunction> | undefined;
      this.crdKinds.set(`${group}|${kind}`, apiVersion => {
        compiled ??= new Map(YAML.parse(text).spec.versions.map((version: any) => {
          const schema = closeObjects(version.schema.openAPIV3Schema);
          // CRD schemas leave metadata open; the API server checks it against ObjectMeta.
          schema.properties.metadata = { $ref: 'k8s#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
          return [`${group}/${version.name}`, this.ajv.compile(schema)];
        }));
        return compiled.get(apiVersion);
      });
    }
  }

  /** Returns the schema errors of `obj`, or an empty list; an unknown kind is an error too. */
  public errors(obj: any): string[] {
    const validate = this.byGvk.get(gvkKey(obj.apiVersion, obj.kind))
      ?? this.crdKinds.get(`${String(obj.apiVersion).split('/')[0]}|${obj.kind}`)?.(obj.apiVersion);
    if (!validate) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
    if (validate(obj)) return [];
    return (validate.errors ?? []).map(e => `${obj.kind}/${obj.metadata?.name}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
  }
}

function gvkKey(apiVersion: string, kind: string): string {
  return `${apiVersion}|${kind}`;
}
