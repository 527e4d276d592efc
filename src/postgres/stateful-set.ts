import { KubeStatefulSet } from '../common/kube-objects';

/**
 * A StatefulSet whose volumeClaimTemplates carry `apiVersion: v1` and
 * `kind: PersistentVolumeClaim`. The API server stores both fields; without
 * them in git Argo CD shows the StatefulSet OutOfSync forever. The generated
 * KubeStatefulSet drops them (and JSON patches on them), so they are added
 * after its own serialization.
 */
export class TypedClaimsStatefulSet extends KubeStatefulSet {
  public toJson(): any {
    const json = super.toJson();
    const templates: unknown[] | undefined = json.spec?.volumeClaimTemplates;
    if (templates) {
      json.spec.volumeClaimTemplates = templates.map(t => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...(t as object) }));
    }
    return json;
  }
}
