import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { PostgresBackup, PostgresBackupOptions } from './backup';
import { CredentialsSource, PostgresCredentials } from './credentials';
import { IPostgresDatabase, PostgresLogin } from './database';
import { DatabaseClients } from './database-clients';
import { metricsContainer, PostgresMetricsOptions, SCRAPE_ANNOTATIONS, scrapeRule } from './metrics';
import { TypedClaimsStatefulSet } from './stateful-set';
import { checkDnsLabel, checkInteger, checkQuantity } from '../common/checks';
import { DisruptionBudget, PodDisruptionBudget } from '../common/disruption';
import { k8s } from '../common/k8s';
import { KubeNetworkPolicy, KubeSecret, KubeService } from '../common/kube-objects';
import { DEV_ONLY_LABEL, objectLabels, selectorLabels, setSyncWave } from '../common/labels';
import { NetworkPeer } from '../common/network';
import { ComputeResources, renderResources } from '../common/resources';
import { createServiceAccount } from '../common/service-account';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';
import { SealedSecret, SECRETS_REVISION_ANNOTATION } from '../sealed-secrets/sealed-secret';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../security/restricted';

/** The port Postgres listens on. */
const POSTGRES_PORT = 5432;

const DATA_MOUNT = '/var/lib/postgresql/data';
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '250m', memoryRequest: '256Mi', cpuLimit: '1', memoryLimit: '1Gi' };

/** Props of {@link Postgres}. */
export interface PostgresProps {
  /**
   * Name of the StatefulSet and client Service; clients connect to this host name.
   * @default - the construct id
   */
  readonly name?: string;
  /** The official `postgres` image (or one built on it), resolved to a digest. */
  readonly image: ContainerImage;
  /**
   * Allow an image referenced by tag. Only for dev.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /** The login. Outside dev, a sealed Secret (or one created outside git). */
  readonly credentials: PostgresCredentials;
  /**
   * Allow credentials whose password is written into the manifests.
   * @default false
   */
  readonly allowPlaintextCredentials?: boolean;
  /**
   * Database created at first start and used by clients.
   * @default 'app'
   */
  readonly database?: string;
  /**
   * Size of the data volume.
   * @default '1Gi'
   */
  readonly storageSize?: string;
  /**
   * StorageClass of the data volume.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * CPU and memory of the Postgres container.
   * @default - 250m/256Mi requested, 1 CPU/1Gi limit
   */
  readonly resources?: ComputeResources;
  /**
   * UID and GID Postgres runs as; must own the data directory.
   * @default 70 (the postgres user of the official Alpine image; 999 in the Debian one)
   */
  readonly runAsUser?: number;
  /**
   * The PodDisruptionBudget. One primary cannot stay up through a drain, so
   * the default lets drains proceed; use `{ minAvailable: 1 }` to make a
   * drain wait for an operator.
   * @default { maxUnavailable: 1 }
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * A nightly pg_dump CronJob writing to a PersistentVolumeClaim.
   * @default - no backup
   */
  readonly backup?: PostgresBackupOptions;
  /**
   * A postgres_exporter sidecar serving Prometheus metrics, announced by
   * `prometheus.io/*` pod annotations and open only to `metrics.scrapers`.
   * @default - no exporter
   */
  readonly metrics?: PostgresMetricsOptions;
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
 * A single-primary Postgres: StatefulSet with a PVC template, a headless and
 * a client Service, ServiceAccount, PodDisruptionBudget and a NetworkPolicy
 * that admits only connected clients, all under "restricted" Pod Security.
 *
 * On node loss: the database is down until its node returns. A StatefulSet
 * never starts a second pod of the same ordinal while the first may still run
 * (the pod on an unreachable node stays Terminating until that node's kubelet
 * confirms it, or someone deletes it by force), and a node-local volume (a
 * `local` or hostPath-backed PersistentVolume) pins the pod to its node anyway.
 * A network volume that can attach elsewhere lets it move after a forced
 * delete. Surviving the loss of a node needs a replicated Postgres (a primary
 * with standbys and automatic failover: {@link PostgresCluster}, on CloudNativePG).
 */
export class Postgres extends Construct implements IPostgresDatabase {
  /** Name of the StatefulSet and the client Service. */
  public readonly name: string;
  /** The client Service's name: the host clients connect to. */
  public readonly host: string;
  /** Database clients use. */
  public readonly databaseName: string;
  /** Port of the client Service. */
  public readonly port = POSTGRES_PORT;
  /** Argo CD sync wave of the database's objects. */
  public readonly syncWave: number;
  /** The Secret holding the login. */
  public readonly login: PostgresLogin;
  /** The database's pods, for the clients' egress rules. */
  public readonly networkPeer: NetworkPeer;
  /** Labels that select the database's pods. */
  public readonly selectorLabels: Record<string, string>;
  /** The StatefulSet. */
  public readonly statefulSet: k8s.KubeStatefulSet;

  private readonly clients = new DatabaseClients(this);

  constructor(scope: Construct, id: string, props: PostgresProps) {
    super(scope, id);
    this.name = checkDnsLabel(this, 'name', props.name ?? id);
    this.host = this.name;
    this.databaseName = props.database ?? 'app';
    if (!DATABASE_NAME.test(this.databaseName)) {
      ValidationError.fail(this, `database "${this.databaseName}" is not a plain Postgres identifier: use lower-case letters, digits and '_', at most 63, not starting with a digit`);
    }
    this.syncWave = checkInteger(this, 'syncWave', props.syncWave ?? 0, -100, 100);
    const runAsUser = checkInteger(this, 'runAsUser', props.runAsUser ?? 70, 1, 2147483647);
    const storageSize = checkQuantity(this, 'storageSize', props.storageSize ?? '1Gi');
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });

    const labels = objectLabels({ name: this.name, component: 'database', partOf: props.partOf });
    this.selectorLabels = selectorLabels({ name: this.name, component: 'database' });
    this.networkPeer = NetworkPeer.pods(this.selectorLabels);
    const secret = this.createOrReferenceSecret(props, labels);
    this.login = {
      secretName: secret.name,
      usernameKey: props.credentials.usernameKey,
      passwordKey: props.credentials.passwordKey,
      revision: secret.revision,
    };

    const serviceAccount = createServiceAccount(this, this.name, labels);
    const headless = new KubeService(this, 'HeadlessService', {
      metadata: { name: `${this.name}-headless`, labels },
      spec: {
        clusterIp: 'None',
        // Peers of a StatefulSet need DNS before they are ready.
        publishNotReadyAddresses: true,
        selector: this.selectorLabels,
        ports: [{ name: 'postgres', port: POSTGRES_PORT, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' }],
      },
    });
    new KubeService(this, 'Service', {
      metadata: { name: this.name, labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selectorLabels,
        ports: [{ name: 'postgres', port: POSTGRES_PORT, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' }],
      },
    });

    const login = this.loginEnv('POSTGRES_USER', 'POSTGRES_PASSWORD');
    const containers: k8s.Container[] = [{
      name: 'postgres',
      image,
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'postgres', containerPort: POSTGRES_PORT, protocol: 'TCP' }],
      env: [
        ...login,
        { name: 'POSTGRES_DB', value: this.databaseName },
        // A subdirectory, because the volume's root may hold lost+found, which initdb refuses.
        { name: 'PGDATA', value: `${DATA_MOUNT}/pgdata` },
      ],
      resources: renderResources(this, 'resources', props.resources ?? DEFAULT_RESOURCES, '1Gi'),
      securityContext: restrictedContainerSecurityContext(),
      startupProbe: pgIsReady({ periodSeconds: 5, failureThreshold: 60 }),
      readinessProbe: pgIsReady({ periodSeconds: 10, failureThreshold: 3 }),
      // Liveness only asks whether Postgres listens: during crash recovery it rejects
      // connections (not ready) but must not be restarted.
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('postgres') }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
      // The image sets the password only when it creates the database; this makes the role's
      // password follow the Secret, so a rotated (re-sealed) password takes effect at the next start.
      lifecycle: { postStart: { exec: { command: ['bash', '-c', APPLY_PASSWORD] } } },
      volumeMounts: [
        { name: 'data', mountPath: DATA_MOUNT },
        { name: 'run', mountPath: '/var/run/postgresql' },
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'shm', mountPath: '/dev/shm' },
      ],
    }];
    if (props.metrics) {
      containers.push(metricsContainer(this, props.metrics, { name: this.databaseName, port: POSTGRES_PORT }, this.loginEnv('DATA_SOURCE_USER', 'DATA_SOURCE_PASS')));
    }

    this.statefulSet = new TypedClaimsStatefulSet(this, 'StatefulSet', {
      metadata: { name: this.name, labels },
      spec: {
        serviceName: headless.name,
        replicas: 1,
        selector: { matchLabels: this.selectorLabels },
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: {
            labels,
            ...(props.metrics || this.login.revision ? {
              annotations: {
                ...(props.metrics ? SCRAPE_ANNOTATIONS : {}),
                // A re-sealed login rolls the pod, whose start applies the new password.
                ...(this.login.revision ? { [SECRETS_REVISION_ANNOTATION]: this.login.revision } : {}),
              },
            } : {}),
          },
          spec: {
            serviceAccountName: serviceAccount.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // Postgres's smart shutdown checkpoints before exiting.
            terminationGracePeriodSeconds: 60,
            securityContext: restrictedPodSecurityContext({ runAsUser }),
            containers,
            volumes: [
              { name: 'run', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
              { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('256Mi') } },
            ],
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(props.storageClassName ? { storageClassName: checkDnsLabel(this, 'storageClassName', props.storageClassName) } : {}),
            resources: { requests: { storage: k8s.Quantity.fromString(storageSize) } },
          },
        }],
      },
    });

    new PodDisruptionBudget(this, 'DisruptionBudget', {
      name: this.name,
      labels,
      selector: this.selectorLabels,
      budget: props.disruptionBudget ?? { maxUnavailable: 1 },
    });

    if (props.backup) {
      const backup = new PostgresBackup(this, 'Backup', {
        ...props.backup,
        databaseName: this.name,
        database: this.databaseName,
        image,
        runAsUser,
        labels,
        databaseSelector: this.selectorLabels,
        databasePort: POSTGRES_PORT,
        loginEnv: this.loginEnv('PGUSER', 'PGPASSWORD'),
      });
      this.allowConnectionsFrom('backup', NetworkPeer.pods(backup.selectorLabels));
    }

    this.createNetworkPolicy(labels, props.metrics && scrapeRule(this, props.metrics));
    setSyncWave(this, this.syncWave);
    // Unsealed one wave before the database starts, so a pod rolled by a re-sealed login reads the new password.
    const sealed = this.node.tryFindChild('SealedCredentials');
    if (sealed) setSyncWave(sealed, this.syncWave - 1);
  }

  /**
   * Admits `client`'s pods to the database port through the NetworkPolicy.
   * @param id distinguishes clients; each may be admitted once
   */
  public allowConnectionsFrom(id: string, client: NetworkPeer): void {
    this.clients.admit(id, client);
  }

  private loginEnv(userVar: string, passwordVar: string): k8s.EnvVar[] {
    const ref = (key: string) => ({ secretKeyRef: { name: this.login.secretName, key } });
    return [
      { name: userVar, valueFrom: ref(this.login.usernameKey) },
      { name: passwordVar, valueFrom: ref(this.login.passwordKey) },
    ];
  }

  private createOrReferenceSecret(props: PostgresProps, labels: Record<string, string>): { name: string; revision?: string } {
    const credentials = props.credentials;
    if (credentials.source === CredentialsSource.EXISTING_SECRET) {
      return { name: checkDnsLabel(this, 'credentials secretName', credentials.secretName!) };
    }
    if (credentials.source === CredentialsSource.SEALED_SECRET) {
      const sealed = new SealedSecret(this, 'SealedCredentials', {
        file: credentials.sealedFile!,
        requiredKeys: [credentials.usernameKey, credentials.passwordKey],
        labels,
      });
      return { name: checkDnsLabel(this, 'credentials secretName', sealed.name), revision: sealed.revision };
    }
    if (!props.allowPlaintextCredentials) {
      ValidationError.fail(this, 'credentials are a plaintext password, which would be committed to git; '
        + "seal it with 'cdk8s-gitops secrets seal' and use PostgresCredentials.fromSealedSecret(), "
        + 'or set allowPlaintextCredentials only for a dev environment');
    }
    const plain = credentials.plaintext!;
    if (plain.password.length < 8) {
      ValidationError.fail(this, 'dev password is shorter than 8 characters');
    }
    const name = `${this.name}-dev-credentials`;
    new KubeSecret(this, 'DevCredentials', {
      metadata: {
        name,
        labels: { ...labels, [DEV_ONLY_LABEL]: 'true' },
        annotations: { 'acme.io/warning': 'DEV ONLY: plaintext password committed to git; never use outside dev' },
      },
      type: 'kubernetes.io/basic-auth',
      stringData: { [credentials.usernameKey]: plain.username, [credentials.passwordKey]: plain.password },
    });
    return { name };
  }

  private createNetworkPolicy(labels: Record<string, string>, metricsRule: k8s.NetworkPolicyIngressRule | undefined): void {
    new KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: this.name, labels },
      spec: {
        podSelector: { matchLabels: this.selectorLabels },
        // Postgres opens no connections of its own, so all egress is denied. Deny-all is
        // written as a policy type without rules: the API server drops empty rule lists,
        // and writing them would leave Argo CD with a diff that never goes away.
        policyTypes: ['Ingress', 'Egress'],
        ingress: Lazy.any({
          produce: () => {
            const rules: k8s.NetworkPolicyIngressRule[] = [];
            rules.push(...this.clients.ingressRules(POSTGRES_PORT));
            if (metricsRule) {
              rules.push(metricsRule);
            }
            return rules.length > 0 ? rules : undefined;
          },
        }),
      },
    });
  }
}

/**
 * The postStart hook: once the server answers on its socket (local connections are trusted, so
 * no old password is needed), set the role's password to the Secret's. psql quotes both through
 * variables (:"u", :'p'); retried, since during the first start the entrypoint's temporary server
 * comes and goes. A failure restarts the container.
 */
const APPLY_PASSWORD = `for i in $(seq 1 240); do
  if pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" && echo 'ALTER ROLE :"u" WITH PASSWORD :'"'p'"';' \\
    | psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres -v u="$POSTGRES_USER" -v p="$POSTGRES_PASSWORD"; then exit 0; fi
  sleep 1
done
echo "could not apply the password of $POSTGRES_USER" >&2; exit 1`;

function pgIsReady(timing: { periodSeconds: number; failureThreshold: number }): k8s.Probe {
  // Probes run without a shell and the kubelet does not expand $(VAR) in them. --username: without
  // one libpq looks up the name of the process's uid, and a runAsUser other than the image's 70
  // has none, so pg_isready answered "no attempt" and the startup probe killed the pod (seen with
  // the official image's entrypoint). The role need not exist: a ping is answered before login.
  return { exec: { command: ['pg_isready', '--host=127.0.0.1', `--port=${POSTGRES_PORT}`, '--username=postgres'] }, timeoutSeconds: 5, ...timing };
}
