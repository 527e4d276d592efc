import { Construct } from 'constructs';
import { checkInteger, checkQuantity } from '../common/checks';
import { k8s } from '../common/k8s';
import { KubeCronJob, KubeNetworkPolicy, KubePersistentVolumeClaim } from '../common/kube-objects';
import { DNS_EGRESS, egressTo } from '../common/network';
import { renderResources } from '../common/resources';
import { ValidationError } from '../common/validation-error';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../security/restricted';

const CRON = /^(\S+\s+){4}\S+$/;

/** Options of a Postgres backup CronJob. */
export interface PostgresBackupOptions {
  /**
   * Cron schedule, in the cluster's time zone unless `timeZone` is set.
   * @default '17 3 * * *' (daily at 03:17)
   */
  readonly schedule?: string;
  /**
   * IANA time zone of the schedule.
   * @default 'Etc/UTC'
   */
  readonly timeZone?: string;
  /**
   * Size of the PersistentVolumeClaim the dumps are written to.
   * @default '2Gi'
   */
  readonly storageSize?: string;
  /**
   * Days a dump is kept before the job deletes it.
   * @default 7
   */
  readonly retentionDays?: number;
}

/** Props of {@link PostgresBackup}. */
export interface PostgresBackupProps extends PostgresBackupOptions {
  /** Name of the Postgres construct; the backup objects are named after it. */
  readonly databaseName: string;
  /** Database to dump. */
  readonly database: string;
  /** The Postgres image, whose pg_dump matches the server. */
  readonly image: string;
  /** UID the job runs as. */
  readonly runAsUser: number;
  /** Labels of the database, which the job's objects share. */
  readonly labels: Record<string, string>;
  /** Labels that select the database's pods. */
  readonly databaseSelector: Record<string, string>;
  /** Port of the database's client Service. */
  readonly databasePort: number;
  /** PGUSER/PGPASSWORD from the database's Secret. */
  readonly loginEnv: k8s.EnvVar[];
}

/**
 * A CronJob that writes `pg_dump --format=custom` to a PersistentVolumeClaim
 * and deletes dumps older than the retention.
 */
export class PostgresBackup extends Construct {
  /** Labels that select the backup job's pods. */
  public readonly selectorLabels: Record<string, string>;

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    const schedule = props.schedule ?? '17 3 * * *';
    if (!CRON.test(schedule.trim())) {
      ValidationError.fail(this, `schedule "${schedule}" is not a five-field cron expression such as "17 3 * * *"`);
    }
    const retentionDays = checkInteger(this, 'retentionDays', props.retentionDays ?? 7, 1, 3650);
    const storageSize = checkQuantity(this, 'storageSize', props.storageSize ?? '2Gi');
    const name = `${props.databaseName}-backup`;
    const labels = { ...props.labels, 'app.kubernetes.io/component': 'backup' };
    this.selectorLabels = { 'app.kubernetes.io/name': props.databaseName, 'app.kubernetes.io/component': 'backup' };

    new KubePersistentVolumeClaim(this, 'Volume', {
      metadata: {
        name,
        labels,
        // Pruning this claim with the app would delete every backup.
        annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' },
      },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: k8s.Quantity.fromString(storageSize) } } },
    });

    // Waits up to a minute for the database first: a new pod's NetworkPolicy rules can lag behind
    // its start (kube-router refused the first connection of every backup pod in the cluster
    // test), and the database may be restarting. Written to a .partial file first so a failed
    // dump never looks like a good one.
    const script = [
      'set -eu',
      'for i in $(seq 60); do pg_isready --timeout=2 --quiet && break; sleep 1; done',
      'file="/backups/${PGDATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"',
      'pg_dump --format=custom --file="${file}.partial"',
      'mv "${file}.partial" "${file}"',
      `find /backups -name '*.dump' -mtime +${retentionDays} -delete`,
      'echo "backup written: ${file}"',
    ].join('\n');

    new KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name, labels },
      spec: {
        podSelector: { matchLabels: this.selectorLabels },
        // No ingress rules: nothing connects to a backup job.
        policyTypes: ['Ingress', 'Egress'],
        egress: [DNS_EGRESS, egressTo({ podSelector: { matchLabels: props.databaseSelector } }, props.databasePort)],
      },
    });

    new KubeCronJob(this, 'CronJob', {
      metadata: { name, labels },
      spec: {
        schedule,
        timeZone: props.timeZone ?? 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        // A run missed by more than an hour (controller down) is skipped rather than started late.
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 3600,
            ttlSecondsAfterFinished: 86400,
            template: {
              metadata: { labels },
              spec: {
                restartPolicy: 'Never',
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: restrictedPodSecurityContext({ runAsUser: props.runAsUser }),
                containers: [{
                  name: 'pg-dump',
                  image: props.image,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['sh', '-c', script],
                  env: [
                    { name: 'PGHOST', value: props.databaseName },
                    { name: 'PGPORT', value: String(props.databasePort) },
                    { name: 'PGDATABASE', value: props.database },
                    ...props.loginEnv,
                  ],
                  resources: renderResources(this, 'resources', { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' }, '256Mi'),
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [{ name: 'backups', mountPath: '/backups' }, { name: 'tmp', mountPath: '/tmp' }],
                }],
                volumes: [
                  { name: 'backups', persistentVolumeClaim: { claimName: name } },
                  { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
                ],
              },
            },
          },
        },
      },
    });
  }
}
