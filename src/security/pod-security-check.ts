/**
 * Checks a rendered pod spec against the Kubernetes "restricted" Pod Security
 * Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * plus this library's own rule of a read-only root filesystem. The admission
 * controller is the authority; this check lets tests and the diff tool say
 * why before anything reaches a cluster.
 */

const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** The pod specs inside a workload object (Pod, Deployment, StatefulSet, Job, CronJob, ...); none for other kinds. */
export function podSpecsOf(obj: any): any[] {
  switch (obj?.kind) {
    case 'Pod': return obj.spec ? [obj.spec] : [];
    case 'CronJob': return obj.spec?.jobTemplate?.spec?.template?.spec ? [obj.spec.jobTemplate.spec.template.spec] : [];
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job':
      return obj.spec?.template?.spec ? [obj.spec.template.spec] : [];
    default: return [];
  }
}

/** Violations of "restricted" in one pod spec; empty when it complies. */
export function restrictedViolations(pod: any): string[] {
  const v: string[] = [];
  const psc = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) v.push('host namespaces');
  for (const vol of pod.volumes ?? []) {
    const type = Object.keys(vol).find(k => k !== 'name')!;
    if (!ALLOWED_VOLUMES.includes(type)) v.push(`volume ${vol.name} of type ${type}`);
  }
  if (psc.runAsUser === 0) v.push('pod runAsUser 0');
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    if (sc.privileged) v.push(`${at}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${at}: allowPrivilegeEscalation not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${at}: capabilities not dropping ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${at}: adds capability ${cap}`);
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) v.push(`${at}: runAsNonRoot not true`);
    if (sc.runAsUser === 0) v.push(`${at}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${at}: seccompProfile ${seccomp}`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${at}: root filesystem writable`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${at}: hostPort ${p.hostPort}`);
  }
  return v;
}
