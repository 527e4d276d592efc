// Validation and shared building blocks
export * from './common/validation-error';
export * from './common/labels';
export * from './common/unique-objects';
export * from './common/resources';
export * from './common/disruption';
export { NetworkPeer } from './common/network';
export * from './security/restricted';
export * from './security/pod-security-check';

// Images pinned by digest
export * from './images/image-lock';
export * from './images/container-image';

// Workloads
export * from './service/go-web-service';
export * from './service/autoscaling';
export * from './postgres/postgres';
export * from './postgres/credentials';
export * from './postgres/backup';
export { METRICS_PORT, PostgresMetricsOptions, SCRAPE_ANNOTATIONS } from './postgres/metrics';

// Secrets sealed in git, opened by the Sealed Secrets controller in the cluster
export * from './sealed-secrets/sealing-certificate';
export * from './sealed-secrets/sealed-secret-file';
export * from './sealed-secrets/sealed-secret';
export * from './sealed-secrets/controller';
export { sealCommand, SealIo, SEAL_USAGE, SEAL_ERROR_EXIT, SEALED_SECRETS_DIR } from './sealed-secrets/seal-command';

// Building images inside a cluster
export * from './image-build/kaniko-build-job';

// Argo CD
export * from './argocd/application';
export * from './argocd/application-set';
export { ArgoCdSyncOptions, RESTRICTED_NAMESPACE_LABELS } from './argocd/sync-options';
export * from './argocd/project';
export { IN_CLUSTER } from './argocd/sources';

// The GitOps tree: environments, Argo CD app-of-apps, Helm chart, atomic writes
export * from './gitops/gitops-repository';
export { HelmChartOptions } from './gitops/helm-chart';
export * from './gitops/platform';
export { outOfBandSecrets } from './gitops/out-of-band-secrets';
export { StagedPath } from './gitops/replace-paths';

// Reviewing a change: semantic diff of two trees and the changes that hurt
export * from './review/manifest-tree';
export * from './review/object-diff';
export * from './review/dangers';
export * from './review/render';
export * from './review/working-tree';
export * from './review/live-tree';
export * from './review/topology';
export * from './review/viewer-page';
export { diffCommand, CommandIo, DIFF_ERROR_EXIT } from './review/diff-command';
export { viewCommand } from './review/view-command';
