import { k8s } from '../common/k8s';

/**
 * Identity a restricted pod runs under.
 */
export interface RestrictedIdentity {
  /** Non-zero UID every container runs as. */
  readonly runAsUser: number;
  /**
   * GID every container runs as.
   * @default - same as runAsUser
   */
  readonly runAsGroup?: number;
  /**
   * GID that owns mounted volumes, so a non-root process can write them.
   * @default - same as runAsGroup
   */
  readonly fsGroup?: number;
}

/**
 * A pod security context that meets the Kubernetes "restricted" Pod Security
 * Standard. cdk8s-plus's defaults set runAsNonRoot but not seccomp, which the
 * restricted level requires.
 */
export function restrictedPodSecurityContext(identity: RestrictedIdentity): k8s.PodSecurityContext {
  const runAsGroup = identity.runAsGroup ?? identity.runAsUser;
  return {
    runAsNonRoot: true,
    runAsUser: identity.runAsUser,
    runAsGroup,
    fsGroup: identity.fsGroup ?? runAsGroup,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * A container security context that meets "restricted": no privilege
 * escalation, every capability dropped, read-only root filesystem. Writable
 * paths come from emptyDir mounts instead.
 */
export function restrictedContainerSecurityContext(runAsUser?: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
