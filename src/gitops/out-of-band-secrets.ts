import { podSpecsOf } from '../security/pod-security-check';

/**
 * Names of the Secrets that the pods of `objects` use but `objects` do not
 * define as a Secret or SealedSecret: the ones created outside git (by hand
 * or external-secrets), which must exist before the pods can start. Sorted.
 * Looks at environment variables, `envFrom`, secret and projected volumes,
 * and image pull secrets.
 */
export function outOfBandSecrets(objects: ReadonlyArray<any>): string[] {
  const used = new Set<string>();
  for (const pod of objects.flatMap(podSpecsOf)) {
    for (const c of [...pod.initContainers ?? [], ...pod.containers ?? []]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) used.add(e.valueFrom.secretKeyRef.name);
      for (const e of c.envFrom ?? []) if (e.secretRef?.name) used.add(e.secretRef.name);
    }
    for (const v of pod.volumes ?? []) {
      if (v.secret?.secretName) used.add(v.secret.secretName);
      for (const s of v.projected?.sources ?? []) if (s.secret?.name) used.add(s.secret.name);
    }
    for (const s of pod.imagePullSecrets ?? []) if (s.name) used.add(s.name);
  }
  // A SealedSecret is a Secret in git: the controller creates it from the sealed file.
  for (const o of objects) if (o.kind === 'Secret' || (o.kind === 'SealedSecret' && o.apiVersion?.startsWith('bitnami.com/'))) used.delete(o.metadata?.name);
  return [...used].sort();
}
