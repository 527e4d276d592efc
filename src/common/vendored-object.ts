import { ApiObject, ApiObjectProps, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { plainJson } from './plain-json';

/**
 * An object of an upstream release manifest (a CRD, RBAC, a webhook
 * configuration), synthesized as it was read. Its body is plain JSON from a
 * vendored file and holds no tokens, so it skips cdk8s's resolution, which
 * asks each of the App's resolvers about every value: for CloudNativePG's
 * CRDs (0.7 MB of JSON) that walk was the largest single cost of a synth
 * (about 60 ms of a cold process, against 10 for the one-walk copy of
 * {@link plainJson}).
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
        // Resolved, sanitized and sorted by cdk8s itself (its metadata is always sorted).
        metadata: this.metadata.toJson(),
        ...plainJson(this.body, { sortKeys }),
      };
      return this.jsonPatches.length ? JsonPatch.apply(json, ...this.jsonPatches) : json;
    } catch (e) {
      throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
    }
  }
}
