import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ContainerImage, GitOpsRepository, ImageLock, Postgres, PostgresCredentials, SealedSecretFile, sealedSecretsPlatform, SealingCertificate,
} from '../../src';
import { CommandIo } from '../../src/common/command-io';
import { SECRETS_ERROR_EXIT, secretsCommand } from '../../src/sealed-secrets/secrets-command';
import { makeSealingKey, openSealed } from '../support/sealing';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-command-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const keys: Record<string, crypto.KeyObject> = {};

/** A repository root with staging's certificate (its key stays in the test's directory, outside it). */
function repositoryRoot(name: string): string {
  const root = path.join(tmp, name);
  keys[name] = makeSealingKey(path.join(root, 'sealed-secrets', 'staging'), path.join(tmp, `${name}.key`), 2048);
  return root;
}

const REPOSITORY = new GitOpsRepository<{ sealed: string }>({
  name: 'shop',
  repoUrl: 'https://github.com/acme/shop.git',
  environments: [
    { name: 'dev', namespace: 'shop-dev', settings: { sealed: '' } },
    { name: 'staging', namespace: 'shop-staging', settings: { sealed: 'staging' } },
  ],
  stack: () => undefined,
});

function io(root: string, stdin = ''): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: t => out.push(t), stderr: t => err.push(t), color: false, cwd: root, env: {}, stdin: () => Buffer.from(stdin) };
}

describe('npm run secrets', () => {
  test('seal: a value from stdin and a generated password, into one file, with the environment\'s namespace and certificate; nothing in plaintext', () => {
    const root = repositoryRoot('seal');
    const a = io(root, 'shop\n');
    expect(secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'username', '--type', 'kubernetes.io/basic-auth'], a)).toBe(0);
    expect(a.err.join('')).toMatch(/^sealed username of Secret shop-staging\/db-login \(strict\) with SHA256:\S+ into sealed-secrets\/staging\/db-login\.yaml; commit it/);
    const b = io(root);
    expect(secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'password', '--generate', 'password'], b)).toBe(0);
    const file = SealedSecretFile.fromFile(path.join(root, 'sealed-secrets', 'staging', 'db-login.yaml'));
    const contents = file.read();
    const certificate = SealingCertificate.fromFile(file.certificatePath);
    expect(contents).toMatchObject({ name: 'db-login', namespace: 'shop-staging', scope: 'strict', sealedWith: certificate.fingerprint, type: 'kubernetes.io/basic-auth' });
    expect(Object.keys(contents.encryptedData).sort()).toEqual(['password', 'username']);
    // Opened with the key: the trailing newline of stdin is dropped; the password is 32 random bytes.
    const unseal = (key: string) => openSealed(keys.seal, contents.encryptedData[key], 'shop-staging/db-login');
    expect(unseal('username')).toBe('shop');
    expect(unseal('password')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const written = fs.readdirSync(root, { recursive: true }).map(f => String(f));
    for (const f of written.filter(p => fs.statSync(path.join(root, p)).isFile())) {
      const text = fs.readFileSync(path.join(root, f), 'utf-8');
      expect(text).not.toContain(unseal('password'));
      expect(text).not.toMatch(/:\s*shop\s*$/m);
    }
    expect([...a.out, ...b.out, ...b.err].join('')).not.toContain(unseal('password'));
  });

  test('list: each environment\'s certificate and what is sealed; a file that no longer matches exits 1', () => {
    const root = repositoryRoot('list');
    secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'password', '--generate', 'password'], io(root));
    const ok = io(root);
    expect(secretsCommand(REPOSITORY, ['list'], ok)).toBe(0);
    expect(ok.out.join('')).toMatch(/^dev \(namespace shop-dev\): certificate none\nstaging \(namespace shop-staging\): certificate SHA256:\S+, expires 20\d\d-.*\n {2}sealed-secrets\/staging\/db-login\.yaml: Secret shop-staging\/db-login \(Opaque, strict\) keys password; sealed with SHA256:\S+\n$/);
    // The certificate replaced (another cluster's): the file is reported, and sealing more into it is refused.
    makeSealingKey(path.join(root, 'sealed-secrets', 'staging'), path.join(tmp, 'list-other.key'), 2048);
    const stale = io(root);
    expect(secretsCommand(REPOSITORY, ['list', '--env', 'staging'], stale)).toBe(1);
    expect(stale.out.join('')).toContain('DOES NOT MATCH the certificate: re-encrypt');
    const refused = io(root, 'x');
    expect(secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'username'], refused)).toBe(SECRETS_ERROR_EXIT);
    expect(refused.err.join('')).toMatch(/holds values sealed with another certificate \(SHA256:\S+, now SHA256:\S+\): run 'cdk8s-gitops secrets reencrypt --env staging' first/);
  });

  test.each([
    [['seal', '--env', 'qa', '--secret', 'x', '--key', 'k'], /--env "qa" is not one of the environments \(dev, staging\)/],
    [['seal', '--env', 'staging', '--secret', 'Bad_Name', '--key', 'k'], /seal needs --secret NAME, a lower-case DNS name/],
    [['seal', '--env', 'staging', '--secret', 'x', '--key', 'k', '--generate', 'token'], /--generate "token": only "password" can be generated/],
    [['seal', '--env', 'staging', '--secret', 'x', '--key', 'k', '--scope', 'global'], /--scope "global" is not one of strict, namespace-wide, cluster-wide/],
    [['rotate', '--env', 'staging'], /unknown command "rotate": use seal, fetch-cert, reencrypt or list/],
    [['fetch-cert'], /fetch-cert needs --env/],
  ])('usage error %j', (argv, message) => {
    const x = io(tmp);
    expect(secretsCommand(REPOSITORY, argv, x)).toBe(SECRETS_ERROR_EXIT);
    expect(x.err.join('')).toMatch(message);
    expect(x.err.join('')).toContain('usage: secrets <command>');
  });

  test('an empty stdin is refused, nothing written', () => {
    const root = repositoryRoot('empty');
    const x = io(root, '\n');
    expect(secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'password'], x)).toBe(SECRETS_ERROR_EXIT);
    expect(x.err.join('')).toContain('nothing to seal on standard input for password');
    expect(fs.existsSync(path.join(root, 'sealed-secrets', 'staging', 'db-login.yaml'))).toBe(false);
  });

  test('fetch-cert without a reachable cluster fails with kubectl\'s error, the certificate untouched', () => {
    const root = repositoryRoot('fetch');
    const before = fs.readFileSync(path.join(root, 'sealed-secrets', 'staging', 'certificate.pem'));
    const x = io(root);
    const code = secretsCommand(REPOSITORY, ['fetch-cert', '--env', 'staging'], { ...x, env: { KUBECTL: path.join(tmp, 'no-kubectl') } });
    expect(code).toBe(SECRETS_ERROR_EXIT);
    expect(x.err.join('')).toMatch(/secrets fetch-cert failed: cannot run .*no-kubectl: .*ENOENT.* \(set KUBECTL\)/);
    expect(fs.readFileSync(path.join(root, 'sealed-secrets', 'staging', 'certificate.pem'))).toEqual(before);
  });
});

describe('GitOpsRepository platform', () => {
  test('dist/platform holds the controller (CRD, RBAC, Deployment with --update-status, restricted); apps/ its Application in wave -1 and its own AppProject', () => {
    const root = repositoryRoot('platform');
    secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'password', '--generate', 'password'], io(root));
    secretsCommand(REPOSITORY, ['seal', '--env', 'staging', '--secret', 'db-login', '--key', 'username', '--generate', 'password'], io(root));
    const repository = new GitOpsRepository<{ sealed?: string }>({
      name: 'shop',
      repoUrl: 'https://github.com/acme/shop.git',
      environments: [{ name: 'staging', namespace: 'shop-staging', settings: {} }],
      stack: (chart, _env, lock) => {
        new Postgres(chart, 'shop-db', {
          image: ContainerImage.fromLock(lock, 'postgres'),
          credentials: PostgresCredentials.fromSealedSecret(SealedSecretFile.fromFile(path.join(root, 'sealed-secrets', 'staging', 'db-login.yaml'))),
        });
      },
      platform: sealedSecretsPlatform(),
    });
    const lock = ImageLock.fromFile(path.join(__dirname, '..', '..', 'images.lock.json'));
    const out = path.join(root, 'dist');
    repository.synth({ outdir: out, lock });
    expect(fs.readdirSync(out).sort()).toEqual(['apps', 'bootstrap', 'platform', 'staging']);
    const read = (dir: string) => YAML.parseAllDocuments(fs.readFileSync(path.join(out, dir, fs.readdirSync(path.join(out, dir))[0]), 'utf-8')).map((d: any) => d.toJS());
    const platform = read('platform');
    expect(platform.map((o: any) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole//secrets-unsealer',
      'ClusterRoleBinding//sealed-secrets-controller',
      'CustomResourceDefinition//sealedsecrets.bitnami.com',
      'Deployment/sealed-secrets/sealed-secrets-controller',
      'NetworkPolicy/sealed-secrets/sealed-secrets-controller',
      'Role/sealed-secrets/sealed-secrets-key-admin',
      'Role/sealed-secrets/sealed-secrets-service-proxier',
      'RoleBinding/sealed-secrets/sealed-secrets-controller',
      'RoleBinding/sealed-secrets/sealed-secrets-service-proxier',
      'Service/sealed-secrets/sealed-secrets-controller',
      'ServiceAccount/sealed-secrets/sealed-secrets-controller',
    ]);
    const deployment = platform.find((o: any) => o.kind === 'Deployment');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toContain('--update-status');
    expect(container.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const apps = read('apps');
    const app = apps.find((o: any) => o.kind === 'Application' && o.metadata.name === 'shop-platform');
    expect(app.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-1');
    expect(app.spec).toMatchObject({ project: 'shop-platform', source: { path: 'dist/platform' }, destination: { namespace: 'sealed-secrets' } });
    const projects = Object.fromEntries(apps.filter((o: any) => o.kind === 'AppProject').map((o: any) => [o.metadata.name, o.spec.clusterResourceWhitelist.map((r: any) => r.kind)]));
    expect(projects).toEqual({ 'shop': ['Namespace'], 'shop-platform': ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'] });
  });

  test('platform is a reserved environment name', () => {
    expect(() => new GitOpsRepository({ name: 'shop', repoUrl: 'https://github.com/acme/shop.git', environments: [{ name: 'platform', namespace: 'p', settings: {} }], stack: () => undefined }))
      .toThrow(/name "platform" must be a lower-case DNS label other than apps and bootstrap and platform/);
  });
});
