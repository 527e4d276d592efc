import { ApiObject, ApiObjectProps, JsonPatch, resolve } from 'cdk8s';
import { Construct } from 'constructs';

/**
 * An object of an upstream release manifest (a CRD, RBAC, a webhook
 * configuration), synthesized as it was read. Its body is plain JSON from a
 * vendored file and holds no tokens, so it skips cdk8s's resolution, which
 * asks each of the App's resolvers about every value: for CloudNativePG's
 * CRDs (0.7 MB of JSON) that walk was the largest single cost of a synth
 * (about 60 ms of a cold process, against 10 for the copy below).
 *
 * The output is what `ApiObject.toJson()` gives: apiVersion, kind and the
 * metadata (resolved as usual: chart labels may be tokens) first, the rest
 * with keys sorted (unless `CDK8S_DISABLE_SORT` is set) and null values
 * dropped, then the JSON patches applied.
 * @internal
 */
export class VendoredObject extends ApiObject {
  private readonly body: { readonly [key: string]: unknown };
  private readonly jsonPatches: JsonPatch[] = [];

  constructor(scope: Construct, id: string, props: ApiObjectProps) {
    super(scope, id, props);
    const { apiVersion: _apiVersion, kind: _kind, metadata: _metadata, ...body } = props;
    this.body = body;
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    super.addJsonPatch(...ops);
    this.jsonPatches.push(...ops);
  }

  public toJson(): any {
    const sortKeys = !process.env.CDK8S_DISABLE_SORT;
    try {
      const json = {
        apiVersion: this.apiVersion,
        kind: this.kind,
        metadata: plainCopy(resolve([], this.metadata.toJson(), this), sortKeys),
        ...plainCopy(this.body, sortKeys),
      };
      return JsonPatch.apply(json, ...this.jsonPatches);
    } catch (e) {
      throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
    }
  }
}

/** A copy of JSON data as cdk8s sanitizes it: null and undefined dropped from objects, keys sorted. */
function plainCopy(value: any, sortKeys: boolean): any {
  if (value == null) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(item => plainCopy(item, sortKeys));
  if (value.constructor?.name !== 'Object') throw new Error(`can't render non-simple object of type '${value.constructor.name}'`);
  const keys = Object.keys(value);
  if (sortKeys) keys.sort();
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const item = plainCopy(value[key], sortKeys);
    if (item != null) copy[key] = item;
  }
  return copy;
}
