import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import {
  ArgoCdApplication, ArgoCdProject, BuildpacksBuildJob, ContainerImage, EnvValue, ExternalPostgres, GitOpsEnvironment, GitOpsRepository, GoWebService,
  ImageLock, KanikoBuildJob, NetworkPeer, Postgres, PostgresCredentials, ValidationError,
} from '../src';
import { APP_IMAGE, digestOf, EXISTING_SECRET, PG_IMAGE, testLock } from './support/fixtures';
import { checkUniqueObjects } from '../src/common/unique-objects';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-inputs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lockFile(name: string, text: string): ImageLock {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return ImageLock.fromFile(file);
}

const web = (chart: Chart, props: Partial<ConstructorParameters<typeof GoWebService>[2]> = {}) =>
  new GoWebService(chart, 'todo', { image: APP_IMAGE, ...props });
const db = (chart: Chart, props: Partial<ConstructorParameters<typeof Postgres>[2]> = {}) =>
  new Postgres(chart, 'db', { image: PG_IMAGE, credentials: EXISTING_SECRET, ...props });
const external = (chart: Chart, props: Partial<ConstructorParameters<typeof ExternalPostgres>[2]> = {}) => new ExternalPostgres(chart, 'ext', {
  host: 'billing.abc123.eu-west-1.rds.amazonaws.com', database: 'billing', credentials: EXISTING_SECRET, network: NetworkPeer.ipBlock('10.20.0.0/16'), ...props,
});
const exporter = ContainerImage.fromDigest('quay.io/prometheuscommunity/postgres-exporter', digestOf('e'));
const kaniko = (chart: Chart, props: Partial<ConstructorParameters<typeof KanikoBuildJob>[2]> = {}) => new KanikoBuildJob(chart, 'build', {
  image: ContainerImage.fromDigest('gcr.io/kaniko-project/executor', digestOf('kaniko')),
  gitContext: 'git://github.com/acme/todo.git#refs/heads/main',
  repository: 'ghcr.io/acme/todo',
  dockerConfigSecret: 'push',
  ...props,
});
const buildpacks = (chart: Chart, props: Partial<ConstructorParameters<typeof BuildpacksBuildJob>[2]> = {}) => new BuildpacksBuildJob(chart, 'build', {
  builder: ContainerImage.fromDigest('ghcr.io/acme/cnb-builder', digestOf('builder')),
  gitImage: ContainerImage.fromDigest('ghcr.io/acme/git', digestOf('git')),
  gitUrl: 'https://github.com/acme/todo.git',
  repository: 'ghcr.io/acme/todo',
  dockerConfigSecret: 'push',
  ...props,
});
const STAGING: GitOpsEnvironment<{}> = { name: 'staging', namespace: 'shop-staging', settings: {} };
/** A GitOpsRepository is no construct: its errors name it as `GitOpsRepository <name>` (README). */
const gitops = (props: Partial<ConstructorParameters<typeof GitOpsRepository<{}>>[0]> = {}) => new GitOpsRepository<{}>({
  name: 'shop', repoUrl: 'https://git.test/acme/shop.git', environments: [STAGING], stack: () => undefined, ...props,
});
const argoApp = (chart: Chart, props: Partial<ConstructorParameters<typeof ArgoCdApplication>[2]> = {}) =>
  new ArgoCdApplication(chart, 'app', { repoUrl: 'https://git.test/acme/gitops.git', path: 'dist/prod', destinationNamespace: 'todo-prod', ...props });

/** [what, build, construct path the error names, bad value it quotes] */
const CASES: Array<[string, (chart: Chart) => void, string, string]> = [
  ['name with upper case and underscore', c => web(c, { name: 'Todo_App' }), 'test/todo', 'Todo_App'],
  ['name longer than 63 characters', c => web(c, { name: 'a'.repeat(64) }), 'test/todo', 'a'.repeat(64)],
  ['container port above 65535', c => web(c, { containerPort: 70000 }), 'test/todo', '70000'],
  ['service port 0', c => web(c, { servicePort: 0 }), 'test/todo', 'servicePort 0'],
  ['negative replicas', c => web(c, { replicas: -1 }), 'test/todo', 'replicas -1'],
  ['fractional replicas', c => web(c, { replicas: 1.5 }), 'test/todo', 'replicas 1.5'],
  ['health path without leading slash', c => web(c, { livenessPath: 'healthz' }), 'test/todo', '"healthz"'],
  ['invalid environment variable name', c => web(c, { env: { '1BAD': 'x' } }), 'test/todo', '1BAD'],
  ['PORT set through env', c => web(c, { env: { PORT: '9090' } }), 'test/todo', 'PORT="9090"'],
  ['CPU request that is not a quantity', c => web(c, { resources: { cpuRequest: 'lots', memoryRequest: '1Gi', cpuLimit: '1', memoryLimit: '1Gi' } }), 'test/todo', '"lots"'],
  ['autoscaling max below min', c => web(c, { autoscaling: { minReplicas: 5, maxReplicas: 2 } }), 'test/todo', 'maxReplicas 2'],
  ['scale-down window beyond the HPA limit', c => web(c, { autoscaling: { minReplicas: 2, maxReplicas: 4, scaleDownStabilizationSeconds: 3601 } }), 'test/todo', 'scaleDownStabilizationSeconds 3601'],
  ['negative scale-down window', c => web(c, { autoscaling: { minReplicas: 2, maxReplicas: 4, scaleDownStabilizationSeconds: -1 } }), 'test/todo', 'scaleDownStabilizationSeconds -1'],
  ['fractional scale-up window', c => web(c, { autoscaling: { minReplicas: 2, maxReplicas: 4, scaleUpStabilizationSeconds: 1.5 } }), 'test/todo', 'scaleUpStabilizationSeconds 1.5'],
  ['disruption budget with both fields', c => web(c, { disruptionBudget: { maxUnavailable: 1, minAvailable: 1 } }), 'test/todo/DisruptionBudget', '"minAvailable":1'],
  ['image repository with upper case', c => web(c, { image: ContainerImage.fromDigest('ghcr.io/acme/Todo', digestOf('x')) }), 'test/todo', 'ghcr.io/acme/Todo'],
  ['malformed digest', c => web(c, { image: ContainerImage.fromDigest('ghcr.io/acme/todo', 'sha256:1234') }), 'test/todo', 'sha256:1234'],
  ['image by tag where digests are required', c => web(c, { image: ContainerImage.fromTag('ghcr.io/acme/todo', 'latest') }), 'test/todo', 'ghcr.io/acme/todo:latest'],
  ['prod image missing from the lock', c => web(c, { image: ContainerImage.fromLock(testLock(), 'missing-image') }), 'test/todo', '"missing-image"'],
  ['corrupt lock file', c => web(c, { image: ContainerImage.fromLock(lockFile('corrupt.json', '{"version": 1, "images": {'), 'todo') }), 'test/todo', 'corrupt.json'],
  ['lock of an unknown version', c => web(c, { image: ContainerImage.fromLock(lockFile('v9.json', '{"version": 9, "images": {}}'), 'todo') }), 'test/todo', '"version" is 9'],
  ['lock entry with a malformed digest', c => web(c, {
    image: ContainerImage.fromLock(lockFile('bad-digest.json', JSON.stringify({ version: 1, images: { todo: { repository: 'ghcr.io/acme/todo', digest: 'md5:abc', builder: 'ko' } } })), 'todo'),
  }), 'test/todo', 'md5:abc'],
  ['plaintext password outside dev', c => db(c, { credentials: PostgresCredentials.devOnlyPlaintext({ password: 'hunter22hunter22' }) }), 'test/db', 'plaintext password'],
  ['dev password too short', c => db(c, { allowPlaintextCredentials: true, credentials: PostgresCredentials.devOnlyPlaintext({ password: 'short' }) }), 'test/db', 'shorter than 8'],
  ['Secret name with underscore', c => db(c, { credentials: PostgresCredentials.fromExistingSecret('db_login') }), 'test/db', 'db_login'],
  ['database name with a dash', c => db(c, { database: 'my-db' }), 'test/db', '"my-db"'],
  ['storage size that is not a quantity', c => db(c, { storageSize: '1 GB' }), 'test/db', '"1 GB"'],
  ['backup schedule that is not cron', c => db(c, { backup: { schedule: 'daily' } }), 'test/db/Backup', '"daily"'],
  ['UID 0', c => db(c, { runAsUser: 0 }), 'test/db', 'runAsUser 0'],
  ['connecting one service twice', c => { const d = db(c); const w = web(c); w.connectToPostgres(d); w.connectToPostgres(d); }, 'test/todo', 'test/db'],
  ['connecting one database twice under distinct prefixes', c => { const d = db(c); const w = web(c); w.connectToPostgres(d); w.connectToPostgres(d, { envPrefix: 'AGAIN_' }); }, 'test/todo', 'test/db'],
  ['two databases under the same envPrefix', c => {
    const w = web(c);
    w.connectToPostgres(db(c), { envPrefix: 'REPORTS_' });
    w.connectToPostgres(new Postgres(c, 'db2', { image: PG_IMAGE, credentials: EXISTING_SECRET }), { envPrefix: 'REPORTS_' });
  }, 'test/todo', 'envPrefix "REPORTS_" of test/db2'],
  ['envPrefix that makes invalid variable names', c => web(c).connectToPostgres(db(c), { envPrefix: '1REPORTS_' }), 'test/todo', '"1REPORTS_"'],
  ['envPrefix with a dash', c => web(c).connectToPostgres(db(c), { envPrefix: 'REPORTS-' }), 'test/todo', '"REPORTS-"'],
  ['external database host with a scheme', c => external(c, { host: 'postgres://db.example.com' }), 'test/ext', '"postgres://db.example.com"'],
  ['external database port out of range', c => external(c, { port: 0 }), 'test/ext', 'port 0'],
  ['external database name with a space', c => external(c, { database: 'my db' }), 'test/ext', '"my db"'],
  ['external database with a plaintext password', c => external(c, { credentials: PostgresCredentials.devOnlyPlaintext({ password: 'long-enough' }) }), 'test/ext', 'fromExistingSecret'],
  ['external database login Secret with upper case', c => external(c, { credentials: PostgresCredentials.fromExistingSecret('Login') }), 'test/ext', '"Login"'],
  ['external database range that is not a CIDR', c => external(c, { network: NetworkPeer.ipBlock('10.20.0.0') }), 'test/ext', '"10.20.0.0"'],
  ['external database range with a bad prefix', c => external(c, { network: NetworkPeer.ipBlock('10.20.0.0/33') }), 'test/ext', '"10.20.0.0/33"'],
  ['external database range with a bad octet', c => external(c, { network: NetworkPeer.ipBlock('10.256.0.0/16') }), 'test/ext', '"10.256.0.0/16"'],
  ['egress to a port out of range', c => web(c).allowEgress(NetworkPeer.ipBlock('10.0.0.0/8'), 70000), 'test/todo', 'egress port 70000'],
  ['ingress host with upper case', c => web(c, { ingress: { host: 'Todo.example.com' } }), 'test/todo', '"Todo.example.com"'],
  ['ingress host that is an IP address', c => web(c, { ingress: { host: '10.0.0.1' } }), 'test/todo', '"10.0.0.1"'],
  ['ingress wildcard not in the first label', c => web(c, { ingress: { host: 'todo.*.example.com' } }), 'test/todo', '"todo.*.example.com"'],
  ['ingress path without leading slash', c => web(c, { ingress: { host: 'todo.example.com', path: 'api' } }), 'test/todo', '"api"'],
  ['ingress TLS Secret name with underscore', c => web(c, { ingress: { host: 'todo.example.com', tlsSecretName: 'todo_tls' } }), 'test/todo', '"todo_tls"'],
  ['ingressClassName with upper case', c => web(c, { ingress: { host: 'todo.example.com', ingressClassName: 'Nginx' } }), 'test/todo', '"Nginx"'],
  ['ingress controller namespace with underscore', c => web(c, { ingress: { host: 'todo.example.com', controller: NetworkPeer.namespace('ingress_nginx') } }), 'test/todo', '"ingress_nginx"'],
  ['empty httpClients', c => web(c, { httpClients: [] }), 'test/todo', 'httpClients is empty'],
  ['HTTP client pods without labels', c => web(c, { httpClients: [NetworkPeer.pods({})] }), 'test/todo', 'NetworkPeer.pods({})'],
  ['HTTP client in a namespace with upper case', c => web(c).allowHttpFrom(NetworkPeer.pods({ app: 'gateway' }, 'Edge')), 'test/todo', '"Edge"'],
  ['metrics scraper namespace with upper case', c => db(c, { metrics: { image: exporter, scrapers: [NetworkPeer.namespace('Monitoring')] } }), 'test/db', '"Monitoring"'],
  ['empty metrics scrapers', c => db(c, { metrics: { image: exporter, scrapers: [] } }), 'test/db', 'metrics.scrapers is empty'],
  ['duplicate environment variable', c => { const w = web(c); w.addEnv('A', EnvValue.fromValue('1')); w.addEnv('A', EnvValue.fromValue('2')); }, 'test/todo', '"A"'],
  ['environment variable name with a dash', c => web(c).addEnv('LOG-LEVEL', EnvValue.fromValue('debug')), 'test/todo', '"LOG-LEVEL"'],
  ['two services with the same object name', c => { web(c); new GoWebService(c, 'todo2', { image: APP_IMAGE, name: 'todo' }); checkUniqueObjects(c); }, 'test/todo2/', 'ConfigMap "todo-config"'],
  ['Argo CD repoUrl that is not a git URL', c => argoApp(c, { repoUrl: 'not a url' }), 'test/app', '"not a url"'],
  ['Argo CD path escaping the repository', c => argoApp(c, { path: '../secrets' }), 'test/app', '"../secrets"'],
  ['Argo CD destination namespace with upper case', c => argoApp(c, { destinationNamespace: 'Prod' }), 'test/app', '"Prod"'],
  ['AppProject without destinations', c => new ArgoCdProject(c, 'proj', { sourceRepos: ['https://git.test/a/b.git'], destinations: [] }), 'test/proj', 'destinations is empty'],
  ['AppProject without source repositories', c => new ArgoCdProject(c, 'proj', { sourceRepos: [], destinations: [{ namespace: 'a' }] }), 'test/proj', 'sourceRepos is empty'],
  ['Argo CD empty targetRevision', c => argoApp(c, { targetRevision: ' ' }), 'test/app', 'targetRevision is empty'],
  ['kaniko git context that is not a git:// URL', c => kaniko(c, { gitContext: 'https://github.com/acme/todo' }), 'test/build', '"https://github.com/acme/todo"'],
  ['kaniko capability beyond baseline', c => kaniko(c, { additionalCapabilities: ['SYS_ADMIN'] }), 'test/build', '"SYS_ADMIN"'],
  ['buildpacks git URL that is not https:// or http://', c => buildpacks(c, { gitUrl: 'git@github.com:acme/todo.git' }), 'test/build', '"git@github.com:acme/todo.git"'],
  ['buildpacks git revision that would be read as an option', c => buildpacks(c, { gitRevision: '--upload-pack=x' }), 'test/build', '"--upload-pack=x"'],
  ['buildpacks insecure registry with a path', c => buildpacks(c, { insecureRegistries: ['registry:5000/acme'] }), 'test/build', '"registry:5000/acme"'],
  ['GitOpsRepository name with upper case', () => gitops({ name: 'Shop' }), 'GitOpsRepository Shop', '"Shop"'],
  ['GitOpsRepository without environments', () => gitops({ environments: [] }), 'GitOpsRepository shop', 'environments is empty'],
  ['GitOpsRepository environment named like a reserved directory', () => gitops({ environments: [{ ...STAGING, name: 'apps' }] }), 'GitOpsRepository shop', '"apps"'],
  ['GitOpsRepository duplicate environment name', () => gitops({ environments: [STAGING, { ...STAGING, namespace: 'other' }] }), 'GitOpsRepository shop', 'name "staging" is used by an earlier environment'],
  ['GitOpsRepository image source with an upper-case name', () => gitops({ imageSources: { Shop: { context: 'app' } } }), 'GitOpsRepository shop', '"Shop"'],
  ['GitOpsRepository image source outside the repository', () => gitops({ imageSources: { shop: { context: '../elsewhere' } } }), 'GitOpsRepository shop', '"../elsewhere"'],
  ['GitOpsRepository image source with an absolute context', () => gitops({ imageSources: { shop: { context: '/srv/app' } } }), 'GitOpsRepository shop', '"/srv/app"'],
];

describe('bad input gives a ValidationError naming the construct path and the bad value', () => {
  // The README promises "more than 50".
  test('the catalogue has more than 50 cases', () => expect(CASES.length).toBeGreaterThan(50));

  test.each(CASES)('%s', (_what, build, constructPath, badValue) => {
    const chart = Testing.chart();
    let error: Error | undefined;
    try {
      build(chart);
      Testing.synth(chart);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(ValidationError);
    // The message starts with the path of the construct that received the input, then ': '.
    expect(error!.message.startsWith(`${(error as ValidationError).constructPath}: `)).toBe(true);
    expect(error!.message.startsWith(constructPath)).toBe(true);
    expect(error!.message).toContain(badValue);
  });
});

test('a duplicate construct id is refused by the constructs library, with the id and its scope', () => {
  // Not a ValidationError: constructs throws before any construct of this library sees the id.
  expect(() => { const c = Testing.chart(); web(c); web(c); }).toThrow("There is already a Construct with name 'todo' in Chart [test]");
});
