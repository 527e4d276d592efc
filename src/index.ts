// The public API of @acme/cdk8s-go-postgres: constructs, their props, the factories and the types
// users pass in. Everything else is internal; API.md lists every exported symbol (npm run api).

// Bad input, reported at synth time with the construct's path
export { ValidationError } from './common/validation-error';

// Shared props
export { ComputeResources } from './common/resources';
export { DisruptionBudget } from './common/disruption';
export { NetworkPeer, NetworkProtocol } from './common/network';

// Images pinned by digest
export { ContainerImage, LockedImageOptions, ImageResolveOptions } from './images/container-image';
export { ImageLock, ImageLockDocument, ImageLockEntry, DEFAULT_IMAGE_LOCK_FILE } from './images/image-lock';

// The Go web service
export { GoWebService, GoWebServiceProps, WebIngressOptions, PostgresConnectOptions } from './service/go-web-service';
export { EnvValue, SecretKeyRef } from './service/env-value';
export { HorizontalAutoscaling } from './service/autoscaling';
export { PlacementOptions, TopologySpread, TopologySpreadOptions } from './service/placement';

// Postgres: the connection interface, the StatefulSet database, a database outside the tree
export { IPostgresDatabase, PostgresLogin, PostgresSslMode } from './postgres/database';
export { Postgres, PostgresProps } from './postgres/postgres';
export { ExternalPostgres, ExternalPostgresProps } from './postgres/external-postgres';
export { PostgresCredentials, CredentialsSource, ExistingSecretOptions, DevCredentialsOptions } from './postgres/credentials';
export { PostgresBackupOptions } from './postgres/backup';
export { PostgresMetricsOptions } from './postgres/metrics';

// Postgres on CloudNativePG: a replicated cluster run by the operator, with failover, backup to an object store and restore
export {
  PostgresCluster, PostgresClusterProps, SynchronousReplication, PostgresClusterBackupMethod, PostgresClusterBackupOptions,
  PostgresClusterBackupSource, PostgresClusterRestoreOptions, PostgresClusterMetricsOptions,
} from './postgres/postgres-cluster';
export { ObjectStoreCredentials, ObjectStoreCredentialsOptions, ObjectStoreOptions } from './postgres/object-store';
export { CloudNativePgOperator, CloudNativePgOperatorProps } from './postgres/cloudnative-pg-operator';
export { BarmanCloudPluginProps } from './postgres/barman-cloud-plugin';


// Building images inside a cluster
export { BuildJob, BuildJobProps } from './image-build/build-job';
export { KanikoBuildJob, KanikoBuildJobProps } from './image-build/kaniko-build-job';
export { BuildpacksBuildJob, BuildpacksBuildJobProps, CNB_DEFAULT_USER_ID } from './image-build/buildpacks-build-job';

// Argo CD
export { ArgoCdApplication, ArgoCdApplicationProps } from './argocd/application';
export {
  ArgoCdApplicationSet, ArgoCdApplicationSetProps, FleetClusters, FleetCluster, FleetEnvironment, ApplicationSetGenerator,
} from './argocd/application-set';
export { ArgoCdSyncOptions } from './argocd/sync-options';
export { ArgoCdProject, ArgoCdProjectProps, IArgoCdProject, ProjectDestination, UnmanagedResource } from './argocd/project';
export { IN_CLUSTER } from './argocd/sources';

// The GitOps tree: environments, Argo CD app-of-apps, Helm chart, all-or-nothing writes
export {
  GitOpsRepository, GitOpsRepositoryProps, GitOpsEnvironment, EnvironmentStackBuilder, GitOpsSynthOptions, ImageSource,
} from './gitops/gitops-repository';
export { HelmChartOptions } from './gitops/helm-chart';
export { TankaEnvironmentOptions, TankaProjectOptions } from './gitops/tanka-project';
export { CloudNativePgPlatformOptions, GitOpsPlatform, SealedSecretsPlatformOptions, cloudNativePgPlatform, combinePlatforms, sealedSecretsPlatform } from './gitops/platform';

// Secrets sealed in git, opened by the Sealed Secrets controller in the cluster
export { SealedSecret, SealedSecretProps } from './sealed-secrets/sealed-secret';
export { SealedSecretFile, SealedSecretContents } from './sealed-secrets/sealed-secret-file';
export { SealingCertificate, SealingScope } from './sealed-secrets/sealing-certificate';
export { SealedSecretsController, SealedSecretsControllerProps, SEALED_SECRETS_VERSION, SEALED_SECRETS_KEY_LABEL } from './sealed-secrets/controller';
