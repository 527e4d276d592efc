import { createHash } from 'crypto';
import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { HorizontalAutoscaling, renderAutoscaler } from './autoscaling';
import { EnvValue, SecretKeyRef } from './env-value';
import { PlacementOptions, renderPlacement } from './placement';
import {
  checkAbsolutePath, checkDnsLabel, checkDnsSubdomain, checkEnvName, checkEnvPrefix, checkHttpPath, checkIngressHost, checkInteger, checkPort,
} from '../common/checks';
import { DisruptionBudget, PodDisruptionBudget } from '../common/disruption';
import { k8s } from '../common/k8s';
import { KubeConfigMap, KubeDeployment, KubeIngress, KubeNetworkPolicy, KubeService } from '../common/kube-objects';
import { ComponentLabels, objectLabels, selectorLabels, setSyncWave } from '../common/labels';
import { DNS_EGRESS, egressTo, ingressFrom, NetworkPeer, NetworkProtocol } from '../common/network';
import { ComputeResources, renderResources } from '../common/resources';
import { createServiceAccount } from '../common/service-account';
import { ValidationError } from '../common/validation-error';
import { ContainerImage } from '../images/container-image';
import { IPostgresDatabase, PostgresSslMode } from '../postgres/database';
import { SealedSecret, SECRETS_REVISION_ANNOTATION } from '../sealed-secrets/sealed-secret';
import { SealedSecretFile } from '../sealed-secrets/sealed-secret-file';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../security/restricted';

/** The environment variable the Go service reads its listen port from. */
const PORT_ENV = 'PORT';

/** Props of {@link GoWebService}. */
export interface GoWebServiceProps {
  /**
   * Name of every object (Deployment, Service, ...) and the `app.kubernetes.io/name` label.
   * @default - the construct id
   */
  readonly name?: string;
  /** The service's image; resolved to `repository@sha256:<digest>`. */
  readonly image: ContainerImage;
  /**
   * Allow an image referenced by tag. Only for dev: a tag can move under a running Deployment.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * Pod count. Ignored for scaling when `autoscaling` is set (the autoscaler owns it).
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Port the service listens on, passed to it as `PORT`.
   * @default 8080
   */
  readonly containerPort?: number;
  /**
   * Port of the ClusterIP Service.
   * @default 80
   */
  readonly servicePort?: number;
  /**
   * Liveness path: answers 200 while the process is healthy.
   * @default '/healthz'
   */
  readonly livenessPath?: string;
  /**
   * Readiness path: answers 200 only when the service can serve (its database answers).
   * @default '/readyz'
   */
  readonly readinessPath?: string;
  /**
   * CPU and memory of the container.
   * @default - 100m/128Mi requested, 500m/256Mi limit
   */
  readonly resources?: ComputeResources;
  /**
   * Plain configuration, rendered into a ConfigMap and passed as environment
   * variables. Never put secrets here: use `secretEnv`.
   * @default - only PORT
   */
  readonly env?: Record<string, string>;
  /**
   * Environment variables read from Secrets: existing ones, or sealed ones
   * (`SealedSecret.keyRef`), whose re-sealing rolls the pods.
   * @default - none
   */
  readonly secretEnv?: Record<string, SecretKeyRef>;
  /**
   * Seconds between SIGTERM and SIGKILL; the service drains requests in between.
   * @default 30
   */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Add a HorizontalPodAutoscaler.
   * @default - no autoscaler, fixed `replicas`
   */
  readonly autoscaling?: HorizontalAutoscaling;
  /**
   * The PodDisruptionBudget. The default lets a drain evict one pod at a time:
   * the drain waits until its replacement is Ready elsewhere before the next.
   * @default { maxUnavailable: 1 }
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * How replicas spread over nodes and zones, and how long they stay on a lost node.
   * @default - spread over nodes (required) and zones (preferred); evicted from a lost node after 30 s
   */
  readonly placement?: PlacementOptions;
  /**
   * Non-zero UID (and GID) the service runs as.
   * @default 65532 (the nonroot user of distroless and ko images)
   */
  readonly runAsUser?: number;
  /**
   * Directories the service may write to despite the read-only root
   * filesystem; each gets an emptyDir.
   * @default ['/tmp']
   */
  readonly writablePaths?: string[];
  /**
   * Limit the pods' outgoing traffic to DNS and connected databases. Turn off
   * for a service that calls other APIs, or allow them with `allowEgress`.
   * @default true
   */
  readonly restrictEgress?: boolean;
  /**
   * Expose the service outside the cluster through an Ingress. The
   * NetworkPolicy then admits the ingress controller to the HTTP port.
   * @default - no Ingress
   */
  readonly ingress?: WebIngressOptions;
  /**
   * Pods admitted to the HTTP port by the NetworkPolicy, besides the ingress
   * controller; `allowHttpFrom` adds more.
   * @default - only the ingress controller when `ingress` is set, otherwise
   * every pod of the service's own namespace (`from: [{ podSelector: {} }]`)
   */
  readonly httpClients?: NetworkPeer[];
  /**
   * Value of the `app.kubernetes.io/part-of` label.
   * @default - none
   */
  readonly partOf?: string;
}

/** Options of the Ingress of a {@link GoWebService}. */
export interface WebIngressOptions {
  /** Host name the Ingress serves, such as `todo.example.com` or `*.example.com`. */
  readonly host: string;
  /**
   * Path the Ingress routes to the service.
   * @default '/'
   */
  readonly path?: string;
  /**
   * How `path` matches request paths.
   * @default 'Prefix'
   */
  readonly pathType?: 'Prefix' | 'Exact' | 'ImplementationSpecific';
  /**
   * IngressClass that implements the Ingress.
   * @default - none: the cluster's default IngressClass
   */
  readonly ingressClassName?: string;
  /**
   * Secret of type `kubernetes.io/tls`, in the service's namespace, holding
   * the certificate of `host`; the Ingress then terminates TLS. Not with
   * `tlsSealedSecret`.
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
  /**
   * A committed sealed file of type `kubernetes.io/tls` (keys `tls.crt` and
   * `tls.key`): the service emits it as a SealedSecret, checked against its
   * namespace and certificate, and the Ingress terminates TLS with it.
   * Not with `tlsSecretName`.
   * @default - no TLS
   */
  readonly tlsSealedSecret?: SealedSecretFile;
  /**
   * Annotations of the Ingress, e.g. for the controller or cert-manager.
   * @default - none
   */
  readonly annotations?: Record<string, string>;
  /**
   * The ingress controller's pods, admitted to the HTTP port.
   * @default NetworkPeer.namespace('ingress-nginx')
   */
  readonly controller?: NetworkPeer;
}

/** Options of {@link GoWebService.connectToPostgres}. */
export interface PostgresConnectOptions {
  /**
   * libpq `sslmode` the client uses.
   * @default - the database's `sslMode`: 'prefer' for {@link Postgres}, 'require' for {@link PostgresCluster} and {@link ExternalPostgres}
   */
  readonly sslMode?: PostgresSslMode;
  /**
   * Prefix of the variable names, so that one service can connect to several
   * databases. With `REPORTS_` the variables are `REPORTS_PGHOST`,
   * `REPORTS_PGPORT`, `REPORTS_PGDATABASE`, `REPORTS_PGUSER`,
   * `REPORTS_PGPASSWORD` and `REPORTS_PGSSLMODE`. libpq reads only the
   * unprefixed names, so the service builds that connection from the
   * prefixed ones itself. Use upper case ending in `_`.
   * @default - no prefix: `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD` and `PGSSLMODE`
   */
  readonly envPrefix?: string;
}

const DEFAULT_RESOURCES: ComputeResources = { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '256Mi' };

/**
 * A stateless Go HTTP service: Deployment, ClusterIP Service, ServiceAccount,
 * ConfigMap, PodDisruptionBudget, NetworkPolicy and optionally a
 * HorizontalPodAutoscaler and an Ingress, with a pod spec that meets the
 * "restricted" Pod Security Standard.
 */
export class GoWebService extends Construct {
  /** Name shared by the Deployment, Service and ServiceAccount. */
  public readonly name: string;
  /** Port of the ClusterIP Service. */
  public readonly servicePort: number;
  /** Port the container listens on. */
  public readonly containerPort: number;
  /** Labels that select this service's pods. */
  public readonly selectorLabels: Record<string, string>;
  /** The Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** The ClusterIP Service. */
  public readonly service: k8s.KubeService;
  /** The Ingress, when `ingress` is set. */
  public readonly ingress?: k8s.KubeIngress;

  private readonly envVars: k8s.EnvVar[] = [];
  private readonly egressRules: k8s.NetworkPolicyEgressRule[] = [DNS_EGRESS];
  private readonly httpPeers: k8s.NetworkPolicyPeer[] = [];
  /** Connected databases by the envPrefix of their variables. */
  private readonly databases = new Map<string, IPostgresDatabase>();
  /** Revisions of the sealed Secrets the pods read. */
  private readonly secretRevisions: string[] = [];

  constructor(scope: Construct, id: string, props: GoWebServiceProps) {
    super(scope, id);
    this.name = checkDnsLabel(this, 'name', props.name ?? id);
    this.containerPort = checkPort(this, 'containerPort', props.containerPort ?? 8080);
    this.servicePort = checkPort(this, 'servicePort', props.servicePort ?? 80);
    const replicas = checkInteger(this, 'replicas', props.replicas ?? 2, 0, 1000);
    const grace = checkInteger(this, 'terminationGracePeriodSeconds', props.terminationGracePeriodSeconds ?? 30, 1, 3600);
    const runAsUser = checkInteger(this, 'runAsUser', props.runAsUser ?? 65532, 1, 2147483647);
    const livenessPath = checkHttpPath(this, 'livenessPath', props.livenessPath ?? '/healthz');
    const readinessPath = checkHttpPath(this, 'readinessPath', props.readinessPath ?? '/readyz');
    const writablePaths = (props.writablePaths ?? ['/tmp']).map(p => checkAbsolutePath(this, 'writablePaths', p));
    const image = props.image.resolve(this, { allowUnpinned: props.allowUnpinnedImage ?? false });

    const componentLabels: ComponentLabels = { name: this.name, component: 'web', partOf: props.partOf };
    const labels = objectLabels(componentLabels);
    this.selectorLabels = selectorLabels(componentLabels);

    const config = this.createConfigMap(labels, props.env ?? {});
    for (const [name, ref] of Object.entries(props.secretEnv ?? {})) {
      checkDnsLabel(this, `secretEnv.${name}.secretName`, ref.secretName);
      this.addEnv(name, EnvValue.fromSecretKey(ref));
    }
    const serviceAccount = createServiceAccount(this, this.name, labels);

    const volumes = writablePaths.map((mountPath, i) => ({ name: `writable-${i}`, mountPath }));
    this.deployment = new KubeDeployment(this, 'Deployment', {
      metadata: { name: this.name, labels },
      spec: {
        ...(props.autoscaling ? {} : { replicas }),
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.selectorLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: {
            labels,
            // Rolls the pods when the configuration or a sealed Secret they read changes;
            // ConfigMap and Secret edits alone do not.
            annotations: Lazy.any({
              produce: () => ({
                'checksum/config': config.checksum,
                ...(this.secretRevisions.length > 0 ? { [SECRETS_REVISION_ANNOTATION]: [...new Set(this.secretRevisions)].sort().join('.') } : {}),
              }),
            }),
          },
          spec: {
            serviceAccountName: serviceAccount.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: grace,
            securityContext: restrictedPodSecurityContext({ runAsUser }),
            ...renderPlacement(this, props.placement ?? {}, this.selectorLabels),
            containers: [{
              name: 'app',
              image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: this.containerPort, protocol: 'TCP' }],
              envFrom: [{ configMapRef: { name: config.name } }],
              env: Lazy.any({ produce: () => (this.envVars.length ? this.envVars : undefined) }),
              resources: renderResources(this, 'resources', props.resources ?? DEFAULT_RESOURCES, '256Mi'),
              securityContext: restrictedContainerSecurityContext(),
              startupProbe: httpProbe(livenessPath, { periodSeconds: 2, failureThreshold: 30 }),
              livenessProbe: httpProbe(livenessPath, { periodSeconds: 10, failureThreshold: 3 }),
              readinessProbe: httpProbe(readinessPath, { periodSeconds: 5, failureThreshold: 3 }),
              volumeMounts: volumes.map(v => ({ name: v.name, mountPath: v.mountPath })),
            }],
            volumes: volumes.map(v => ({ name: v.name, emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } })),
          },
        },
      },
    });

    this.service = new KubeService(this, 'Service', {
      metadata: { name: this.name, labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selectorLabels,
        ports: [{ name: 'http', port: this.servicePort, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });

    new PodDisruptionBudget(this, 'DisruptionBudget', {
      name: this.name,
      labels,
      selector: this.selectorLabels,
      budget: props.disruptionBudget ?? { maxUnavailable: 1 },
    });

    if (props.ingress) {
      this.ingress = this.createIngress(labels, props.ingress);
      this.allowHttpFrom(props.ingress.controller ?? NetworkPeer.namespace('ingress-nginx'));
    }
    if (props.httpClients?.length === 0) {
      ValidationError.fail(this, "httpClients is empty: leave it unset for the default (the service's own namespace, "
        + 'or only the ingress controller when ingress is set), or list the client pods with NetworkPeer');
    }
    for (const peer of props.httpClients ?? []) this.allowHttpFrom(peer);
    this.createNetworkPolicy(labels, props.restrictEgress ?? true);

    if (props.autoscaling) {
      renderAutoscaler(this, { name: this.name, labels, deploymentName: this.name, autoscaling: props.autoscaling });
    }
  }

  /**
   * Connects the service to `database` in one call: the libpq connection
   * variables (the login from Secret references, never literals), an egress
   * rule to the database, a rule in the database's NetworkPolicy (when this
   * tree has one) that admits this service's pods, and a sync wave after the
   * database's. Connect several databases by giving each its own
   * `options.envPrefix`.
   */
  public connectToPostgres(database: IPostgresDatabase, options: PostgresConnectOptions = {}): void {
    const prefix = checkEnvPrefix(this, 'envPrefix', options.envPrefix ?? '');
    for (const [usedPrefix, connected] of this.databases) {
      if (connected === database) {
        ValidationError.fail(this, `is already connected to ${database.node.path} (envPrefix "${usedPrefix}"); connect each database once`);
      }
    }
    const clash = this.databases.get(prefix);
    if (clash) {
      ValidationError.fail(this, `envPrefix "${prefix}" of ${database.node.path} is already used by ${clash.node.path}; `
        + 'pass a distinct envPrefix, such as "REPORTS_", for each database');
    }
    this.databases.set(prefix, database);
    const login = database.login;
    const variables: Array<[string, EnvValue]> = [
      ['PGHOST', EnvValue.fromValue(database.host)],
      ['PGPORT', EnvValue.fromValue(String(database.port))],
      ['PGDATABASE', EnvValue.fromValue(database.databaseName)],
      ['PGUSER', EnvValue.fromSecretKey({ secretName: login.secretName, key: login.usernameKey, revision: login.revision })],
      ['PGPASSWORD', EnvValue.fromSecretKey({ secretName: login.secretName, key: login.passwordKey, revision: login.revision })],
      ['PGSSLMODE', EnvValue.fromValue(options.sslMode ?? database.sslMode ?? 'prefer')],
    ];
    for (const [name, value] of variables) this.addEnv(`${prefix}${name}`, value);
    database.allowConnectionsFrom(this.name, NetworkPeer.pods(this.selectorLabels));
    this.allowEgress(database.networkPeer, database.port);
    const waves = [...this.databases.values()].flatMap(db => (db.syncWave === undefined ? [] : [db.syncWave]));
    if (waves.length > 0) setSyncWave(this, Math.max(...waves) + 1);
  }

  /**
   * Admits `peer` to the HTTP port through the NetworkPolicy. The first
   * client replaces the default of admitting the service's own namespace.
   */
  public allowHttpFrom(peer: NetworkPeer): void {
    this.httpPeers.push(peer.bind(this));
  }

  /**
   * Lets the pods open connections to `peer` on `port` when egress is
   * restricted (`restrictEgress`, the default), e.g. to an API the service calls.
   * @param protocol the port's protocol
   */
  public allowEgress(peer: NetworkPeer, port: number, protocol: NetworkProtocol = 'TCP'): void {
    this.egressRules.push(egressTo(peer.bind(this), checkPort(this, 'egress port', port), protocol));
  }

  /** Adds the environment variable `name` to the container; names must be unique. */
  public addEnv(name: string, value: EnvValue): void {
    checkEnvName(this, name);
    if (this.envVars.some(e => e.name === name)) {
      ValidationError.fail(this, `environment variable "${name}" is set twice; remove one of the definitions`);
    }
    this.envVars.push(value.render(name));
    if (value.secretRevision !== undefined) this.secretRevisions.push(value.secretRevision);
  }

  private createNetworkPolicy(labels: Record<string, string>, restrictEgress: boolean): void {
    new KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: this.name, labels },
      spec: {
        podSelector: { matchLabels: this.selectorLabels },
        policyTypes: restrictEgress ? ['Ingress', 'Egress'] : ['Ingress'],
        // Only the HTTP port is open, and only to the given clients; with none given, to the pods of
        // the own namespace, so that a new service works yet stays closed to the rest of the cluster.
        ingress: [Lazy.any({
          produce: () => ingressFrom(this.httpPeers.length > 0 ? this.httpPeers : [NetworkPeer.sameNamespace().bind(this)], this.containerPort),
        })],
        ...(restrictEgress ? { egress: Lazy.any({ produce: () => this.egressRules }) } : {}),
      },
    });
  }

  private createIngress(labels: Record<string, string>, options: WebIngressOptions): k8s.KubeIngress {
    const host = checkIngressHost(this, 'ingress.host', options.host);
    if (options.tlsSecretName !== undefined && options.tlsSealedSecret !== undefined) {
      ValidationError.fail(this, `ingress sets both tlsSecretName "${options.tlsSecretName}" and tlsSealedSecret ${options.tlsSealedSecret.path}: give one`);
    }
    const tlsSecretName = options.tlsSealedSecret !== undefined
      ? new SealedSecret(this, 'TlsSecret', { file: options.tlsSealedSecret, type: 'kubernetes.io/tls', requiredKeys: ['tls.crt', 'tls.key'], labels }).name
      : options.tlsSecretName === undefined ? undefined : checkDnsSubdomain(this, 'ingress.tlsSecretName', options.tlsSecretName);
    const ingressClassName = options.ingressClassName === undefined ? undefined : checkDnsSubdomain(this, 'ingress.ingressClassName', options.ingressClassName);
    return new KubeIngress(this, 'Ingress', {
      // A copy: the sync wave added later must not change the caller's object.
      metadata: { name: this.name, labels, annotations: { ...options.annotations } },
      spec: {
        ...(ingressClassName !== undefined ? { ingressClassName } : {}),
        ...(tlsSecretName !== undefined ? { tls: [{ hosts: [host], secretName: tlsSecretName }] } : {}),
        rules: [{
          host,
          http: {
            paths: [{
              path: checkHttpPath(this, 'ingress.path', options.path ?? '/'),
              pathType: options.pathType ?? 'Prefix',
              // By port name, so a changed servicePort needs no change here.
              backend: { service: { name: this.service.name, port: { name: 'http' } } },
            }],
          },
        }],
      },
    });
  }

  private createConfigMap(labels: Record<string, string>, env: Record<string, string>): { name: string; checksum: string } {
    if (Object.prototype.hasOwnProperty.call(env, PORT_ENV)) {
      ValidationError.fail(this, `env sets ${PORT_ENV}="${env[PORT_ENV]}", but the port comes from containerPort; set containerPort instead`);
    }
    const data: Record<string, string> = { [PORT_ENV]: String(this.containerPort) };
    for (const name of Object.keys(env).sort()) {
      data[checkEnvName(this, name)] = env[name];
    }
    const name = `${this.name}-config`;
    new KubeConfigMap(this, 'Config', { metadata: { name, labels }, data });
    const checksum = createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
    return { name, checksum };
  }
}

function httpProbe(path: string, timing: { periodSeconds: number; failureThreshold: number }): k8s.Probe {
  return { httpGet: { path, port: k8s.IntOrString.fromString('http') }, timeoutSeconds: 2, ...timing };
}
