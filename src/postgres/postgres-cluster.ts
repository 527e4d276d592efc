import { Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { BARMAN_CLOUD_PLUGIN_NAME } from './barman-cloud-plugin';
import { CredentialsSource, PostgresCredentials } from './credentials';
import { IPostgresDatabase, PostgresLogin, PostgresSslMode } from './database';
import { DatabaseClients } from './database-clients';
import { SCRAPE_ANNOTATIONS, scrapeRule } from './metrics';
import { ObjectStoreOptions, RenderedObjectStore, renderObjectStore } from './object-store';
import * as barman from '../../imports/barman-cloud-objectstore-barmancloud.cnpg.io';
import * as cnpg from '../../imports/cnpg-cluster-postgresql.cnpg.io';
import * as cnpgBackup from '../../imports/cnpg-scheduledbackup-postgresql.cnpg.io';
import { checkDnsLabel, checkInteger, checkLabelKey, checkQuantity } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeNetworkPolicy, KubeSecret } from '../common/kube-objects';
import { DEV_ONLY_LABEL, objectLabels, setSyncWave } from '../common/labels';
import { DNS_EGRESS, egressTo, ingressFrom, NetworkPeer } from '../common/network';
import { ComputeResources, renderResources } from '../common/resources';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';
import { SealedSecret } from '../sealed-secrets/sealed-secret';

/** The port Postgres listens on in every instance. */
const POSTGRES_PORT = 5432;
/** The instance manager's status port: the operator and the other instances ask it for the instance's state. */
const STATUS_PORT = 8000;
/** The label CloudNativePG puts on every pod of a cluster (instances and its initdb, join and recovery Jobs). */
const CLUSTER_LABEL = 'cnpg.io/cluster';
/**
 * The label that has CloudNativePG watch a Secret it reads: without it, a
 * rotated login or object-store key never reaches the instances.
 */
const RELOAD_LABEL = { 'cnpg.io/reload': 'true' };
/** CloudNativePG refuses longer cluster names: its objects append suffixes such as `-superuser`. */
const MAX_NAME = 50;
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** What CloudNativePG reads a major and minor version from: the image tag must start with it. */
const POSTGRES_VERSION = /^(1[4-9]|[2-9][0-9])(\.[0-9]+)?$/;
/** CloudNativePG's default `stopDelay`: the grace period of an instance's pod, smart and fast shutdown together. */
const STOP_DELAY_S = 1800;
/** CloudNativePG's own pattern for `backup.retentionPolicy`. */
const RETENTION = /^[1-9][0-9]*[dwm]$/;
/** Postgres's units for `archive_timeout`. */
const ARCHIVE_TIMEOUT = /^[1-9][0-9]*(s|min|h)$/;
/** A cron field of robfig/cron, which CloudNativePG schedules with. */
const CRON_FIELD = /^[0-9A-Za-z*?/,-]+$/;
/** RFC 3339 with an explicit offset: a time without one is read as UTC, which is rarely what was meant. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '250m', memoryRequest: '512Mi', cpuLimit: '1', memoryLimit: '1Gi' };
/** Where the API server is unless told: any address, on the Service port and the port most CNIs see after its DNAT. */
const API_SERVER_PORTS = [443, 6443];

/**
 * Synchronous replication: a commit returns only once `number` standbys have
 * the WAL. Trade-off: with `dataDurability: 'required'` no acknowledged write
 * is lost on failover, but writes stop while fewer than `number` standbys are
 * up; with `'preferred'` writes go on with fewer standbys (self-healing), and
 * a failover while none was in sync can lose the last acknowledged writes.
 */
export interface SynchronousReplication {
  /**
   * `any`: quorum, any `number` standbys; `first`: the first `number` standbys by priority.
   * @default 'any'
   */
  readonly method?: 'any' | 'first';
  /**
   * Standbys each commit waits for; at most `instances - 1`.
   * @default 1
   */
  readonly number?: number;
  /**
   * `required`: writes wait for the standbys, never acknowledged by the primary alone;
   * `preferred`: writes go on with fewer standbys than `number`.
   * @default 'required'
   */
  readonly dataDurability?: 'required' | 'preferred';
}

/**
 * Who writes a {@link PostgresCluster}'s backups and reads them back, both with barman-cloud:
 *
 * - `barmanObjectStore`: CloudNativePG's in-tree support (`spec.backup.barmanObjectStore`), run by
 *   the instance manager in the Postgres container, whose image needs the `barman-cloud-*`
 *   commands. Deprecated since CloudNativePG 1.26; 1.30's webhook warns on every apply that
 *   1.31 removes it.
 * - `plugin`: the Barman Cloud plugin (CNPG-I), its successor: the store is an `ObjectStore`
 *   object the Cluster names in `spec.plugins`, and a sidecar the plugin injects into every
 *   instance runs barman-cloud. Needs the plugin beside the operator
 *   (`cloudNativePgPlatform({ barmanCloudPlugin: {} })`). The archive's layout in the bucket is
 *   the same, so either can restore what the other wrote.
 */
export type PostgresClusterBackupMethod = 'barmanObjectStore' | 'plugin';

/** Continuous backup of a {@link PostgresCluster}: WAL archiving and base backups to an object store (barman-cloud). */
export interface PostgresClusterBackupOptions {
  /**
   * Who archives WAL and takes base backups (see {@link PostgresClusterBackupMethod}).
   * @default 'barmanObjectStore'
   */
  readonly method?: PostgresClusterBackupMethod;
  /** Where WAL and base backups go; the cluster writes below `<destinationPath>/<cluster name>/`. */
  readonly objectStore: ObjectStoreOptions;
  /**
   * How long base backups (and the WAL to restore them) are kept: days, weeks
   * or months, like `30d`, `4w` or `6m`. CloudNativePG 1.30 deprecates the
   * field in favour of the Barman Cloud plugin's retention, but still honours it.
   * @default '30d'
   */
  readonly retention?: string;
  /**
   * When a base backup is taken (a `ScheduledBackup`, also one at creation):
   * robfig/cron with a seconds field first, e.g. `0 0 3 * * *` for 03:00 daily.
   * @default '0 0 0 * * *' (midnight)
   */
  readonly schedule?: string;
  /**
   * Postgres's `archive_timeout`: a WAL segment is archived at least this
   * often, so it bounds the writes lost with the whole cluster (the RPO of a
   * restore from the object store) when the database is quiet.
   * @default '5min' (CloudNativePG's default)
   */
  readonly walArchiveTimeout?: string;
}

/** The backup a {@link PostgresCluster} is bootstrapped from. */
export interface PostgresClusterBackupSource extends ObjectStoreOptions {
  /** Name of the cluster that wrote the backup (its folder below `destinationPath`). */
  readonly clusterName: string;
  /**
   * Who reads the backup back (see {@link PostgresClusterBackupMethod}).
   * @default - the method of `backup`, or 'barmanObjectStore' without backup
   */
  readonly method?: PostgresClusterBackupMethod;
}

/** Bootstrap a {@link PostgresCluster} from another cluster's backup instead of an empty database (point-in-time restore). */
export interface PostgresClusterRestoreOptions {
  /** The object store and cluster whose base backup and WAL are restored. */
  readonly fromBackupOf: PostgresClusterBackupSource;
  /**
   * Restore up to this moment: RFC 3339 with an explicit offset, like
   * `2026-07-01T10:15:00Z`; the base backup before it is chosen.
   * @default - to the end of the archived WAL
   */
  readonly targetTime?: string;
}

/** Prometheus scraping of the metrics every instance serves on port 9187. */
export interface PostgresClusterMetricsOptions {
  /**
   * The Prometheus pods admitted to the metrics port by the NetworkPolicy.
   * @default [NetworkPeer.namespace('monitoring')]
   */
  readonly scrapers?: NetworkPeer[];
  /**
   * Let the operator create a Prometheus Operator `PodMonitor` (needs its CRD).
   * @default false: pods carry `prometheus.io/*` annotations instead
   */
  readonly enablePodMonitor?: boolean;
}

/** Props of {@link PostgresCluster}. */
export interface PostgresClusterProps {
  /**
   * Name of the `Cluster`; clients connect to `<name>-rw`. At most 50 characters.
   * @default - the construct id
   */
  readonly name?: string;
  /** A Postgres image CloudNativePG can run (`initdb`, `postgres`, `pg_ctl`, `pg_basebackup`; `barman-cloud-*` for backups), pinned by digest. */
  readonly image: ContainerImage;
  /**
   * The image's Postgres version, like `16` or `16.4`. CloudNativePG reads
   * the major version from the image tag and refuses a reference by digest
   * alone, so the image is rendered as `<repository>:<version>@<digest>`
   * (the digest decides what is pulled).
   */
  readonly postgresVersion: string;
  /**
   * Allow an image referenced by tag (its tag must start with `postgresVersion`). Only for dev.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * Postgres instances: one primary, the rest hot standbys that take over on failover.
   * @default 3
   */
  readonly instances?: number;
  /**
   * Database created at bootstrap and used by clients.
   * @default 'app'
   */
  readonly database?: string;
  /**
   * The role owning the database, which clients log in as. With `credentials`, the Secret's `username` must be this name.
   * @default - the database name
   */
  readonly owner?: string;
  /**
   * The login of `owner`, in a Secret with the keys `username` and `password`
   * (what CloudNativePG reads): one created outside git, or sealed. The
   * sealed one is labelled `cnpg.io/reload`, so a rotated password reaches the
   * database; label a Secret created outside git the same way.
   * @default - the operator generates a random password into the Secret `<name>-app`: none in git at all
   */
  readonly credentials?: PostgresCredentials;
  /**
   * Allow credentials whose password is written into the manifests.
   * @default false
   */
  readonly allowPlaintextCredentials?: boolean;
  /**
   * Size of each instance's data volume.
   * @default '1Gi'
   */
  readonly storageSize?: string;
  /**
   * StorageClass of the data volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Size of a separate WAL volume per instance, so WAL cannot fill the data volume (and the reverse).
   * @default - WAL on the data volume
   */
  readonly walStorageSize?: string;
  /**
   * StorageClass of the WAL volumes.
   * @default - `storageClassName`
   */
  readonly walStorageClassName?: string;
  /**
   * CPU and memory of the Postgres container of each instance.
   * @default - 250m/512Mi requested, 1 CPU/1Gi limit
   */
  readonly resources?: ComputeResources;
  /**
   * UID of the `postgres` user in the image.
   * @default 26
   */
  readonly postgresUid?: number;
  /**
   * GID of the `postgres` user in the image.
   * @default 26
   */
  readonly postgresGid?: number;
  /**
   * Postgres settings (`postgresql.conf`), e.g. `{ max_connections: '200' }`;
   * the operator refuses the ones it manages itself.
   * @default - CloudNativePG's defaults
   */
  readonly parameters?: Record<string, string>;
  /**
   * Synchronous replication; needs at least 2 instances.
   * @default - asynchronous: a failover can lose the writes the new primary had not received
   */
  readonly synchronous?: SynchronousReplication;
  /**
   * Whether instances must run on different nodes (`required`: a pod stays
   * Pending rather than share a node) or only should (`preferred`).
   * @default 'required'
   */
  readonly antiAffinity?: 'required' | 'preferred';
  /**
   * The node label whose values the instances are spread over.
   * @default 'kubernetes.io/hostname' (one instance per node)
   */
  readonly topologyKey?: string;
  /**
   * Let the operator keep a PodDisruptionBudget: a drain evicts standbys one
   * at a time and the primary only after a switchover.
   * @default true
   */
  readonly enablePodDisruptionBudget?: boolean;
  /**
   * How long an instance being stopped (a rolling update, a switchover, a
   * drain) waits for its clients to disconnect before it closes their
   * connections and shuts down fast. Pooled clients, such as
   * `GoWebService`'s, never disconnect by themselves: every stop takes this
   * long with them. Whole seconds, under CloudNativePG's `stopDelay` (1800 s)
   * so the fast shutdown keeps time to finish.
   * @default Duration.seconds(180) (CloudNativePG's default)
   */
  readonly smartShutdownTimeout?: Duration;
  /**
   * How a rolling update (a new image, a setting that needs a restart) gets
   * to the primary once every standby is updated. `switchover`: an updated
   * standby is promoted and the old primary, stopped fast, rejoins as a
   * standby; writes stop only for the promotion. `restart`: the primary's
   * pod is recreated in place, and there is no primary until it is back
   * (CloudNativePG's default). With `switchover` the operator refuses a
   * change of the image and of `parameters` in one update: commit them apart.
   * @default 'switchover'
   */
  readonly primaryUpdateMethod?: 'switchover' | 'restart';
  /**
   * Continuous backup to an object store.
   * @default - no backup: losing the volumes loses the database
   */
  readonly backup?: PostgresClusterBackupOptions;
  /**
   * Bootstrap from another cluster's backup (point-in-time restore) instead
   * of creating an empty database. Read once, when the cluster is created.
   * @default - a new, empty database
   */
  readonly restore?: PostgresClusterRestoreOptions;
  /**
   * Prometheus scraping of the instances' metrics.
   * @default - the metrics port stays closed
   */
  readonly metrics?: PostgresClusterMetricsOptions;
  /**
   * Namespace of the CloudNativePG operator, admitted to the status port and Postgres.
   * @default 'cnpg-system'
   */
  readonly operatorNamespace?: string;
  /**
   * Where the Kubernetes API server is, for the instances' egress (the
   * instance manager watches its Cluster and Secrets). The default allows any
   * address on ports 443 and 6443, since the API server is reached at the
   * addresses behind the `kubernetes` Service, which differ per cluster;
   * narrow it to the control plane's range with `NetworkPeer.ipBlock()`.
   * @default NetworkPeer.ipBlock('0.0.0.0/0') on ports 443 and 6443
   */
  readonly apiServer?: NetworkPeer;
  /**
   * Argo CD sync wave of the database's objects; connected services get the next wave.
   * @default 0
   */
  readonly syncWave?: number;
  /**
   * Value of the `app.kubernetes.io/part-of` label.
   * @default - none
   */
  readonly partOf?: string;
}

/**
 * A replicated Postgres run by the CloudNativePG operator (which must be
 * installed): a `Cluster` of one primary and hot standbys on different nodes,
 * automatic failover, optional synchronous replication, continuous backup to
 * an object store with a `ScheduledBackup`, point-in-time restore, and a
 * NetworkPolicy admitting only what the cluster needs.
 *
 * Clients connect through `GoWebService.connectToPostgres` as to
 * {@link Postgres}: to the read-write Service `<name>-rw` (it follows the
 * primary across failovers) over TLS (`sslmode=require`: the operator serves
 * TLS with its own CA), with the login in `<name>-app` unless `credentials`
 * are given; `readOnlyHost` (`<name>-ro`) reaches the standbys.
 *
 * Pod security: the operator renders the pods itself. It runs them as
 * `postgresUid` with `runAsNonRoot`, no privilege escalation, every
 * capability dropped, a read-only root filesystem and the `RuntimeDefault`
 * seccomp profile (set here explicitly), which meets the "restricted" Pod
 * Security Standard.
 */
export class PostgresCluster extends Construct implements IPostgresDatabase {
  /** Name of the `Cluster`. */
  public readonly name: string;
  /** The read-write Service: the primary, wherever it runs. */
  public readonly host: string;
  /** The read-only Service: the standbys (they lag the primary unless replication is synchronous). */
  public readonly readOnlyHost: string;
  /** Database clients use. */
  public readonly databaseName: string;
  /** Port of the Services. */
  public readonly port = POSTGRES_PORT;
  /** The operator serves TLS; clients insist on it. */
  public readonly sslMode: PostgresSslMode = 'require';
  /** Argo CD sync wave of the database's objects. */
  public readonly syncWave: number;
  /** The Secret holding the login. */
  public readonly login: PostgresLogin;
  /** The cluster's pods, for the clients' egress rules. */
  public readonly networkPeer: NetworkPeer;
  /** Postgres instances. */
  public readonly instances: number;
  /** The `Cluster`. */
  public readonly cluster: cnpg.Cluster;
  /** The `ScheduledBackup`, when backup is on. */
  public readonly scheduledBackup?: cnpgBackup.ScheduledBackup;
  /** The Barman Cloud plugin's `ObjectStore` the cluster backs up to, when backup is on with the plugin. */
  public readonly backupObjectStore?: barman.ObjectStore;

  private readonly clients = new DatabaseClients(this);

  constructor(scope: Construct, id: string, props: PostgresClusterProps) {
    super(scope, id);
    this.name = checkDnsLabel(this, 'name', props.name ?? id);
    if (this.name.length > MAX_NAME) {
      ValidationError.fail(this, `name "${this.name}" is longer than ${MAX_NAME} characters, which CloudNativePG refuses (its objects add suffixes): shorten it`);
    }
    this.host = `${this.name}-rw`;
    this.readOnlyHost = `${this.name}-ro`;
    this.databaseName = checkIdentifier(this, 'database', props.database ?? 'app');
    const owner = checkIdentifier(this, 'owner', props.owner ?? this.databaseName);
    this.syncWave = checkInteger(this, 'syncWave', props.syncWave ?? 0, -100, 100);
    this.instances = checkInteger(this, 'instances', props.instances ?? 3, 1, 99);
    const postgresUid = checkInteger(this, 'postgresUid', props.postgresUid ?? 26, 1, 2147483647);
    const postgresGid = checkInteger(this, 'postgresGid', props.postgresGid ?? 26, 1, 2147483647);
    const imageName = this.imageName(props);
    const labels = objectLabels({ name: this.name, component: 'database', partOf: props.partOf });
    const podSelector = { [CLUSTER_LABEL]: this.name };
    this.networkPeer = NetworkPeer.pods(podSelector);

    const secret = this.credentialsSecret(props, owner, { ...labels, ...RELOAD_LABEL });
    this.login = { secretName: secret.name, usernameKey: 'username', passwordKey: 'password', revision: secret.revision };

    const backup = props.backup && renderObjectStore(this, 'backup.objectStore', props.backup.objectStore, { ...labels, ...RELOAD_LABEL });
    const backupMethod = this.backupMethod('backup.method', props.backup?.method);
    const retentionPolicy = props.backup
      && checkMatches(this, 'backup.retention', props.backup.retention ?? '30d', RETENTION, 'write days, weeks or months like "30d", "4w" or "6m"');
    const restore = this.restoreSource(props, backup, backupMethod);
    const parameters = { ...props.parameters };
    if (props.backup) {
      parameters.archive_timeout = checkMatches(this, 'backup.walArchiveTimeout', props.backup.walArchiveTimeout ?? '5min', ARCHIVE_TIMEOUT,
        'write it like "60s", "5min" or "1h"');
    }
    const appSecret = secret.userSecret ? { secret: { name: secret.name } } : {};
    const resources = renderResources(this, 'resources', props.resources ?? DEFAULT_RESOURCES, '1Gi');
    // The generated CRD types have their own quantity classes: carry the checked values over.
    const quantities = (q: Record<string, k8s.Quantity> | undefined) => mapValues(q ?? {}, v => String(v.value));

    if (backup && backupMethod === 'plugin') {
      this.backupObjectStore = new barman.ObjectStore(this, 'BackupObjectStore', {
        metadata: { name: `${this.name}-backup`, labels },
        spec: {
          retentionPolicy,
          configuration: { ...barmanStore(backup), wal: { compression: barman.ObjectStoreSpecConfigurationWalCompression.GZIP } },
        },
      });
    }
    this.cluster = new cnpg.Cluster(this, 'Resource', {
      metadata: { name: this.name, labels },
      spec: {
        instances: this.instances,
        imageName,
        postgresUid,
        postgresGid,
        // The operator's default too; explicit so the rendered pods' profile is visible in the tree.
        seccompProfile: { type: 'RuntimeDefault' },
        enablePdb: props.enablePodDisruptionBudget ?? true,
        // Both explicit: the strategy is the operator's default, the method is not (see primaryUpdateMethod).
        primaryUpdateStrategy: cnpg.ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        primaryUpdateMethod: props.primaryUpdateMethod === 'restart' ? cnpg.ClusterSpecPrimaryUpdateMethod.RESTART : cnpg.ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
        ...(props.smartShutdownTimeout ? { smartShutdownTimeout: this.smartShutdownTimeout(props.smartShutdownTimeout) } : {}),
        inheritedMetadata: { labels, ...(props.metrics && !props.metrics.enablePodMonitor ? { annotations: SCRAPE_ANNOTATIONS } : {}) },
        storage: this.storage('storage', props.storageSize ?? '1Gi', props.storageClassName),
        ...(props.walStorageSize ? { walStorage: this.storage('walStorage', props.walStorageSize, props.walStorageClassName ?? props.storageClassName) } : {}),
        resources: {
          requests: mapValues(quantities(resources.requests), v => cnpg.ClusterSpecResourcesRequests.fromString(v)),
          limits: mapValues(quantities(resources.limits), v => cnpg.ClusterSpecResourcesLimits.fromString(v)),
        },
        affinity: {
          enablePodAntiAffinity: true,
          podAntiAffinityType: props.antiAffinity ?? 'required',
          topologyKey: checkLabelKey(this, 'topologyKey', props.topologyKey ?? 'kubernetes.io/hostname'),
        },
        postgresql: {
          ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
          ...(props.synchronous ? { synchronous: this.synchronous(props.synchronous) } : {}),
        },
        bootstrap: restore
          ? {
            recovery: {
              source: restore.name,
              database: this.databaseName,
              owner,
              ...appSecret,
              ...(restore.targetTime ? { recoveryTarget: { targetTime: restore.targetTime } } : {}),
            },
          }
          : { initdb: { database: this.databaseName, owner, ...appSecret } },
        ...(restore ? { externalClusters: [this.externalCluster(restore, labels)] } : {}),
        ...(backup && backupMethod === 'barmanObjectStore' ? {
          backup: {
            retentionPolicy,
            barmanObjectStore: { ...barmanStore(backup), wal: { compression: cnpg.ClusterSpecBackupBarmanObjectStoreWalCompression.GZIP } },
          },
        } : {}),
        ...(this.backupObjectStore ? {
          plugins: [{ name: BARMAN_CLOUD_PLUGIN_NAME, isWalArchiver: true, parameters: { barmanObjectName: this.backupObjectStore.name } }],
        } : {}),
        ...(props.metrics ? { monitoring: { enablePodMonitor: props.metrics.enablePodMonitor ?? false } } : {}),
      },
    });

    if (props.backup) {
      this.scheduledBackup = new cnpgBackup.ScheduledBackup(this, 'ScheduledBackup', {
        metadata: { name: this.name, labels },
        spec: {
          cluster: { name: this.name },
          schedule: checkSchedule(this, props.backup.schedule ?? '0 0 0 * * *'),
          ...(backupMethod === 'plugin'
            ? { method: cnpgBackup.ScheduledBackupSpecMethod.PLUGIN, pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN_NAME } }
            : { method: cnpgBackup.ScheduledBackupSpecMethod.BARMAN_OBJECT_STORE }),
          // A WAL archive restores nothing without a base backup: take the first one now.
          immediate: true,
          backupOwnerReference: cnpgBackup.ScheduledBackupSpecBackupOwnerReference.SELF,
        },
      });
    }

    const stores = [backup, restore?.store].filter((s): s is RenderedObjectStore => s !== undefined);
    this.createNetworkPolicy(props, labels, podSelector, stores);
    setSyncWave(this, this.syncWave);
    // Unsealed one wave before the cluster, which reads them when it starts.
    for (const child of this.node.children) {
      if (child instanceof SealedSecret) setSyncWave(child, this.syncWave - 1);
    }
    const devSecret = this.node.tryFindChild('DevCredentials');
    if (devSecret) setSyncWave(devSecret, this.syncWave - 1);
  }

  /**
   * Admits `client`'s pods to Postgres (5432) on every instance through the NetworkPolicy.
   * @param id distinguishes clients; each may be admitted once
   */
  public allowConnectionsFrom(id: string, client: NetworkPeer): void {
    this.clients.admit(id, client);
  }

  private imageName(props: PostgresClusterProps): string {
    const version = props.postgresVersion;
    if (!POSTGRES_VERSION.test(version)) {
      ValidationError.fail(this, `postgresVersion "${version}" is not a Postgres version CloudNativePG 1.30 runs: write the major (14 or later), optionally with the minor, like "16" or "16.4"`);
    }
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });
    const at = image.indexOf('@');
    if (at >= 0) return `${image.slice(0, at)}:${version}${image.slice(at)}`;
    const tag = image.slice(image.lastIndexOf(':') + 1);
    if (tag !== version && !tag.startsWith(`${version}.`) && !tag.startsWith(`${version}-`)) {
      ValidationError.fail(this, `image ${image} has a tag that does not start with postgresVersion "${version}": CloudNativePG reads the version from the tag; use a tag like "${version}-bookworm" or set postgresVersion to match`);
    }
    return image;
  }

  private smartShutdownTimeout(timeout: Duration): number {
    const seconds = timeout.toSeconds({ integral: false });
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > STOP_DELAY_S - 60) {
      ValidationError.fail(this, `smartShutdownTimeout of ${seconds} seconds is out of range: use whole seconds from 1 to ${STOP_DELAY_S - 60}, `
        + `leaving the fast shutdown at least a minute of CloudNativePG's stopDelay (${STOP_DELAY_S} s)`);
    }
    return seconds;
  }

  private storage(what: string, size: string, storageClassName: string | undefined): cnpg.ClusterSpecStorage {
    return {
      size: checkQuantity(this, `${what}Size`, size),
      ...(storageClassName ? { storageClass: checkDnsLabel(this, `${what === 'storage' ? '' : `${what}.`}storageClassName`, storageClassName) } : {}),
    };
  }

  private synchronous(sync: SynchronousReplication): cnpg.ClusterSpecPostgresqlSynchronous {
    if (this.instances < 2) {
      ValidationError.fail(this, `synchronous replication needs a standby, but instances is ${this.instances}: set instances to 2 or more, or leave synchronous unset`);
    }
    const number = checkInteger(this, 'synchronous.number', sync.number ?? 1, 1, this.instances - 1);
    return {
      method: sync.method === 'first' ? cnpg.ClusterSpecPostgresqlSynchronousMethod.FIRST : cnpg.ClusterSpecPostgresqlSynchronousMethod.ANY,
      number,
      dataDurability: sync.dataDurability === 'preferred'
        ? cnpg.ClusterSpecPostgresqlSynchronousDataDurability.PREFERRED
        : cnpg.ClusterSpecPostgresqlSynchronousDataDurability.REQUIRED,
    };
  }

  private restoreSource(props: PostgresClusterProps, backup: RenderedObjectStore | undefined, backupMethod: PostgresClusterBackupMethod) {
    const restore = props.restore;
    if (!restore) return undefined;
    if (!restore.fromBackupOf) {
      ValidationError.fail(this, 'restore has no fromBackupOf: name the cluster and object store whose backup is restored'
        + `${restore.targetTime ? ` up to ${restore.targetTime}` : ''}, or remove restore to create an empty database`);
    }
    const source = restore.fromBackupOf;
    const name = checkDnsLabel(this, 'restore.fromBackupOf.clusterName', source.clusterName);
    const store = renderObjectStore(this, 'restore.fromBackupOf', source, {});
    if (backup && name === this.name && backup.destinationPath === store.destinationPath) {
      ValidationError.fail(this, `restore reads the backup of "${name}" from ${store.destinationPath}, where this cluster, of the same name, would archive too: `
        + 'CloudNativePG refuses a WAL archive that is not empty; give the restored cluster a new name or back it up to another destinationPath');
    }
    if (restore.targetTime !== undefined && (!RFC3339.test(restore.targetTime) || Number.isNaN(Date.parse(restore.targetTime)))) {
      ValidationError.fail(this, `restore.targetTime "${restore.targetTime}" is not an RFC 3339 time with an offset: write it like "2026-07-01T10:15:00Z" or "2026-07-01T12:15:00+02:00"`);
    }
    const method = this.backupMethod('restore.fromBackupOf.method', source.method ?? (props.backup ? backupMethod : undefined));
    return { name, store, method, targetTime: restore.targetTime };
  }

  /** The restore's source as an external cluster: the in-tree store, or the plugin's `ObjectStore` it names (emitted here). */
  private externalCluster(
    restore: { name: string; store: RenderedObjectStore; method: PostgresClusterBackupMethod }, labels: Record<string, string>,
  ) {
    if (restore.method === 'barmanObjectStore') {
      return { name: restore.name, barmanObjectStore: { ...barmanStore(restore.store), serverName: restore.name } };
    }
    const objectStore = new barman.ObjectStore(this, 'RestoreObjectStore', {
      metadata: { name: `${this.name}-restore`, labels },
      spec: { configuration: barmanStore(restore.store) },
    });
    return {
      name: restore.name,
      plugin: { name: BARMAN_CLOUD_PLUGIN_NAME, parameters: { barmanObjectName: objectStore.name, serverName: restore.name } },
    };
  }

  private backupMethod(what: string, method: string | undefined): PostgresClusterBackupMethod {
    if (method === undefined || method === 'barmanObjectStore' || method === 'plugin') return method ?? 'barmanObjectStore';
    return ValidationError.fail(this, `${what} "${method}" is not a backup method: use "plugin" (the Barman Cloud plugin) or "barmanObjectStore" (CloudNativePG's in-tree support)`);
  }

  /** The login's Secret: the operator's `<name>-app`, or the user's (emitted when sealed or dev plaintext). */
  private credentialsSecret(props: PostgresClusterProps, owner: string, labels: Record<string, string>): CredentialsSecret {
    const credentials = props.credentials;
    if (!credentials) return { name: `${this.name}-app`, userSecret: false };
    if (credentials.usernameKey !== 'username' || credentials.passwordKey !== 'password') {
      ValidationError.fail(this, `credentials use the keys "${credentials.usernameKey}" and "${credentials.passwordKey}", but CloudNativePG reads only "username" and "password": store the login under those keys`);
    }
    if (credentials.source === CredentialsSource.EXISTING_SECRET) {
      return { name: checkDnsLabel(this, 'credentials secretName', credentials.secretName!), userSecret: true };
    }
    if (credentials.source === CredentialsSource.SEALED_SECRET) {
      const sealed = new SealedSecret(this, 'SealedCredentials', { file: credentials.sealedFile!, requiredKeys: ['username', 'password'], labels });
      return { name: checkDnsLabel(this, 'credentials secretName', sealed.name), revision: sealed.revision, userSecret: true };
    }
    if (!props.allowPlaintextCredentials) {
      ValidationError.fail(this, 'credentials are a plaintext password, which would be committed to git; leave credentials unset to have the operator '
        + "generate one, seal it with 'cdk8s-gitops secrets seal' and use PostgresCredentials.fromSealedSecret(), or set allowPlaintextCredentials only for a dev environment");
    }
    const plain = credentials.plaintext!;
    if (plain.password.length < 8) {
      ValidationError.fail(this, 'dev password is shorter than 8 characters');
    }
    if (plain.username !== owner) {
      ValidationError.fail(this, `the dev login's user "${plain.username}" is not the owner "${owner}": CloudNativePG sets the password of the owner only; make them the same`);
    }
    const name = `${this.name}-dev-credentials`;
    new KubeSecret(this, 'DevCredentials', {
      metadata: {
        name,
        labels: { ...labels, [DEV_ONLY_LABEL]: 'true' },
        annotations: { 'acme.io/warning': 'DEV ONLY: plaintext password committed to git; never use outside dev' },
      },
      type: 'kubernetes.io/basic-auth',
      stringData: { username: plain.username, password: plain.password },
    });
    return { name, userSecret: true };
  }

  private createNetworkPolicy(
    props: PostgresClusterProps, labels: Record<string, string>, podSelector: Record<string, string>, stores: RenderedObjectStore[],
  ): void {
    const self: k8s.NetworkPolicyPeer = { podSelector: { matchLabels: podSelector } };
    const operator = NetworkPeer.namespace(props.operatorNamespace ?? 'cnpg-system').bind(this);
    const apiServer = (props.apiServer ?? NetworkPeer.ipBlock('0.0.0.0/0')).bind(this);
    const metricsRule = props.metrics && scrapeRule(this, props.metrics);
    new KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: this.name, labels },
      spec: {
        podSelector: { matchLabels: podSelector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: Lazy.any({
          produce: () => [
            // Streaming replication and pg_basebackup between instances; the status port for the instance managers.
            ingressFrom([self], POSTGRES_PORT),
            ingressFrom([self], STATUS_PORT),
            // The operator asks each instance for its status, and connects to Postgres for some operations.
            ingressFrom([operator], STATUS_PORT),
            ingressFrom([operator], POSTGRES_PORT),
            ...this.clients.ingressRules(POSTGRES_PORT),
            ...(metricsRule ? [metricsRule] : []),
          ],
        }),
        egress: distinctRules([
          DNS_EGRESS,
          egressTo(self, POSTGRES_PORT),
          egressTo(self, STATUS_PORT),
          ...API_SERVER_PORTS.map(port => egressTo(apiServer, port)),
          ...stores.map(store => egressTo(store.peer.bind(this), store.port)),
        ]),
      },
    });
  }
}

/** The rules without repeats: an object store on the API server's peer and port (S3 anywhere on 443) is admitted once. */
function distinctRules(rules: k8s.NetworkPolicyEgressRule[]): k8s.NetworkPolicyEgressRule[] {
  const seen = new Set<string>();
  return rules.filter(rule => {
    const key = JSON.stringify(rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The Secret of the owner's login; `userSecret` when it is the user's, not the one the operator generates. */
interface CredentialsSecret {
  readonly name: string;
  readonly revision?: string;
  readonly userSecret: boolean;
}

function checkIdentifier(scope: Construct, what: string, value: string): string {
  if (!DATABASE_NAME.test(value)) {
    ValidationError.fail(scope, `${what} "${value}" is not a plain Postgres identifier: use lower-case letters, digits and '_', at most 63, not starting with a digit`);
  }
  return value;
}

function checkMatches(scope: Construct, what: string, value: string, pattern: RegExp, fix: string): string {
  if (!pattern.test(value)) ValidationError.fail(scope, `${what} "${value}" is invalid: ${fix}`);
  return value;
}

/** A robfig/cron schedule with seconds, the format CloudNativePG's ScheduledBackup takes. */
function checkSchedule(scope: Construct, schedule: string): string {
  const fields = schedule.trim().split(/\s+/);
  const descriptor = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every [0-9hms.]+)$/.test(schedule);
  if (!descriptor && (fields.length !== 6 || !fields.every(f => CRON_FIELD.test(f)))) {
    ValidationError.fail(scope, `backup.schedule "${schedule}" is not a six-field cron expression: CloudNativePG's schedules start with a seconds field, `
      + `so write "0 ${fields.length === 5 ? fields.join(' ') : '0 0 * * *'}" for ${fields.length === 5 ? 'the five-field schedule given' : 'midnight daily'}`);
  }
  return schedule;
}

function barmanStore(store: RenderedObjectStore) {
  return { endpointUrl: store.endpointURL, destinationPath: store.destinationPath, s3Credentials: store.s3Credentials };
}

function mapValues<V, T>(o: Record<string, V>, f: (v: V) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
