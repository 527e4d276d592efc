import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import {
  ContainerImage, ExternalPostgres, GoWebService, NetworkPeer, Postgres, PostgresCredentials, SealedSecret, SealedSecretFile,
  SealingCertificate, SealingScope, ValidationError,
} from '../../src';
import { SECRETS_REVISION_ANNOTATION } from '../../src/sealed-secrets/sealed-secret';
import { sealingLabel } from '../../src/sealed-secrets/sealing-certificate';
import { makeSealingKey, openSealed } from '../support/sealing';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-secret-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function keyPair(dir: string): { certificate: SealingCertificate; privateKey: crypto.KeyObject } {
  const privateKey = makeSealingKey(dir, path.join(dir, 'key.pem'));
  return { certificate: SealingCertificate.fromFile(path.join(dir, 'certificate.pem')), privateKey };
}

const staging = keyPair(path.join(tmp, 'staging'));
const prod = keyPair(path.join(tmp, 'prod'));

/** Seals `values` for `namespace/name` with the certificate in `dir` into `dir/<file>.yaml`. */
interface SealOptions {
  readonly name?: string;
  readonly namespace?: string;
  readonly scope?: SealingScope;
  readonly file?: string;
  readonly type?: string;
  readonly values?: Record<string, string>;
}

function sealFile(dir: string, certificate: SealingCertificate, options: SealOptions = {}): SealedSecretFile {
  const name = options.name ?? 'db-login';
  const namespace = options.namespace ?? 'shop-staging';
  const scope = options.scope ?? SealingScope.STRICT;
  const values = options.values ?? { username: 'shop', password: 'correct horse battery staple' };
  const file = path.join(dir, `${options.file ?? name}.yaml`);
  SealedSecretFile.write(file, {
    name,
    namespace,
    scope,
    sealedWith: certificate.fingerprint,
    type: options.type,
    encryptedData: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, certificate.seal(Buffer.from(v), namespace, name, scope)])),
  });
  return SealedSecretFile.fromFile(file);
}

function chart(namespace = 'shop-staging'): Chart {
  return new Chart(Testing.app(), 'shop', { namespace, disableResourceNameHashes: true });
}

describe('SealingCertificate', () => {
  test('the fingerprint is the SHA-256 of the SSH encoding of the key, as the controller and ssh-keygen print it', () => {
    const pub = execFileSync('bash', ['-c', `ssh-keygen -lf <(ssh-keygen -i -m PKCS8 -f <(openssl x509 -in ${path.join(tmp, 'staging', 'certificate.pem')} -pubkey -noout))`]).toString();
    expect(staging.certificate.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(pub.split(' ')[1]).toBe(staging.certificate.fingerprint);
    expect(prod.certificate.fingerprint).not.toBe(staging.certificate.fingerprint);
  });

  test.each([
    [SealingScope.STRICT, 'shop-staging/db-login'],
    [SealingScope.NAMESPACE_WIDE, 'shop-staging'],
    [SealingScope.CLUSTER_WIDE, ''],
  ])('a %s value opens with its label (%j) and the private key, and only with them', (scope, label) => {
    expect(sealingLabel('shop-staging', 'db-login', scope)).toBe(label);
    const sealed = staging.certificate.seal(Buffer.from('s3cret é'), 'shop-staging', 'db-login', scope);
    expect(openSealed(staging.privateKey, sealed, label)).toBe('s3cret é');
    expect(() => openSealed(staging.privateKey, sealed, `${label}x`)).toThrow();
    expect(() => openSealed(prod.privateKey, sealed, label)).toThrow();
  });

  test('sealing is random: the same value twice gives different ciphertexts (so synth never seals)', () => {
    const a = staging.certificate.seal(Buffer.from('v'), 'n', 'x');
    const b = staging.certificate.seal(Buffer.from('v'), 'n', 'x');
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64').readUInt16BE(0)).toBe(512);
  });

  test('a certificate that is not RSA is refused', () => {
    const dir = path.join(tmp, 'ec');
    fs.mkdirSync(dir);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k'), '-out', path.join(dir, 'c'), '-days', '1', '-subj', '/CN=x'], { stdio: 'ignore' });
    expect(() => SealingCertificate.fromFile(path.join(dir, 'c'))).toThrow(/not RSA/);
  });
});

describe('SealedSecret', () => {
  test('emits the committed ciphertext unchanged as a bitnami.com/v1alpha1 SealedSecret, deterministically', () => {
    const file = sealFile(path.join(tmp, 'staging'), staging.certificate, { type: 'kubernetes.io/basic-auth' });
    const render = () => {
      const c = chart();
      const sealed = new SealedSecret(c, 'login', { file, requiredKeys: ['username', 'password'] });
      return { objects: Testing.synth(c), sealed };
    };
    const { objects, sealed } = render();
    expect(objects).toHaveLength(1);
    const [o] = objects;
    expect(o).toMatchObject({
      apiVersion: 'bitnami.com/v1alpha1',
      kind: 'SealedSecret',
      metadata: { name: 'db-login', namespace: 'shop-staging', annotations: { 'acme.io/sealed-with': staging.certificate.fingerprint } },
      spec: { template: { metadata: { name: 'db-login' }, type: 'kubernetes.io/basic-auth' } },
    });
    expect(o.spec.encryptedData).toEqual(file.read().encryptedData);
    expect(openSealed(staging.privateKey, o.spec.encryptedData.password, 'shop-staging/db-login')).toBe('correct horse battery staple');
    expect(JSON.stringify(objects)).not.toContain('correct horse');
    expect(render().objects).toEqual(objects);
    expect(sealed.keys).toEqual(['password', 'username']);
    expect(sealed.keyRef('password')).toEqual({ secretName: 'db-login', key: 'password', revision: sealed.revision });
  });

  test('a namespace-wide value is emitted with the controller\'s annotation when allowed', () => {
    const file = sealFile(path.join(tmp, 'staging'), staging.certificate, { scope: SealingScope.NAMESPACE_WIDE, file: 'wide' });
    const c = chart();
    new SealedSecret(c, 'login', { file, allowedScopes: [SealingScope.STRICT, SealingScope.NAMESPACE_WIDE] });
    expect(Testing.synth(c)[0].metadata.annotations['sealedsecrets.bitnami.com/namespace-wide']).toBe('true');
  });

  const refusals: Array<[string, () => void, RegExp]> = [
    ['a file sealed for another namespace (copied from another environment)', () => {
      new SealedSecret(chart('shop-prod'), 'login', { file: sealFile(path.join(tmp, 'staging'), staging.certificate) });
    }, /^shop\/login: .*db-login\.yaml is sealed for namespace "shop-staging", but is used in namespace "shop-prod": the controller cannot open it here; seal it for this place with 'cdk8s-gitops secrets seal/],
    ['a file sealed for another Secret name', () => {
      new SealedSecret(chart(), 'login', { file: sealFile(path.join(tmp, 'staging'), staging.certificate), name: 'billing-login' });
    }, /^shop\/login: .* is sealed for the Secret "db-login", but is used as "billing-login"/],
    ['a scope wider than allowed', () => {
      new SealedSecret(chart(), 'login', { file: sealFile(path.join(tmp, 'staging'), staging.certificate, { scope: SealingScope.CLUSTER_WIDE, file: 'cw' }) });
    }, /^shop\/login: .*cw\.yaml is sealed with scope cluster-wide, but only strict is allowed here/],
    ['a file sealed with another certificate than the one beside it', () => {
      const dir = path.join(tmp, 'staging-rotated');
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(tmp, 'prod', 'certificate.pem'), path.join(dir, 'certificate.pem'));
      new SealedSecret(chart(), 'login', { file: sealFile(dir, staging.certificate) });
    }, new RegExp(`^shop/login: .* is sealed with the key ${staging.certificate.fingerprint.replace(/[+/]/g, '\\$&')}, but the environment's certificate .*certificate\\.pem has the key ${prod.certificate.fingerprint.replace(/[+/]/g, '\\$&')}: .*reencrypt`)],
    ['a missing key', () => {
      new SealedSecret(chart(), 'login', { file: sealFile(path.join(tmp, 'staging'), staging.certificate, { values: { password: 'x' }, file: 'only-password' }), requiredKeys: ['username', 'password'] });
    }, /^shop\/login: .*only-password\.yaml lacks the key\(s\) username \(it holds password\)/],
    ['another Secret type', () => {
      new SealedSecret(chart(), 'login', { file: sealFile(path.join(tmp, 'staging'), staging.certificate, { file: 'opaque' }), type: 'kubernetes.io/tls' });
    }, /^shop\/login: .* makes a Secret of type "Opaque", but "kubernetes.io\/tls" is needed here/],
    ['a missing file', () => {
      new SealedSecret(chart(), 'login', { file: SealedSecretFile.fromFile(path.join(tmp, 'staging', 'absent.yaml')) });
    }, /^shop\/login: sealed file .*absent\.yaml cannot be read .*: seal it with 'cdk8s-gitops secrets seal'/],
    ['a file that is not a SealedSecret', () => {
      fs.writeFileSync(path.join(tmp, 'staging', 'plain.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: shop-staging}\nstringData: {password: x}\n');
      new SealedSecret(chart(), 'login', { file: SealedSecretFile.fromFile(path.join(tmp, 'staging', 'plain.yaml')) });
    }, /^shop\/login: sealed file .*plain\.yaml is not a bitnami.com\/v1alpha1 SealedSecret/],
    ['a missing certificate', () => {
      const dir = path.join(tmp, 'no-cert');
      new SealedSecret(chart(), 'login', { file: sealFile(dir, staging.certificate) });
    }, /^shop\/login: the certificate .*no-cert\/certificate\.pem beside db-login\.yaml cannot be read .*fetch-cert/],
  ];
  test.each(refusals)('refuses %s at synth with a ValidationError naming the construct and the value', (_what, build, message) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('what takes a sealed Secret', () => {
  const image = ContainerImage.fromDigest('ghcr.io/acme/app', DIGEST);

  test('PostgresCredentials.fromSealedSecret: the SealedSecret one wave before the database, the pods annotated with its revision, the password applied at each start', () => {
    const c = chart();
    const file = sealFile(path.join(tmp, 'staging'), staging.certificate, { file: 'db-login' });
    const db = new Postgres(c, 'shop-db', { image, credentials: PostgresCredentials.fromSealedSecret(file) });
    const web = new GoWebService(c, 'shop', { image });
    web.connectToPostgres(db);
    const objects = Testing.synth(c);
    const sealed = objects.find(o => o.kind === 'SealedSecret');
    expect(sealed.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-1');
    expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
    const statefulSet = objects.find(o => o.kind === 'StatefulSet');
    const deployment = objects.find(o => o.kind === 'Deployment');
    expect(statefulSet.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('0');
    expect(statefulSet.spec.template.metadata.annotations[SECRETS_REVISION_ANNOTATION]).toBe(db.login.revision);
    expect(deployment.spec.template.metadata.annotations[SECRETS_REVISION_ANNOTATION]).toBe(db.login.revision);
    const postgres = statefulSet.spec.template.spec.containers[0];
    expect(postgres.env.find((e: any) => e.name === 'POSTGRES_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'db-login', key: 'password' });
    expect(postgres.lifecycle.postStart.exec.command.join(' ')).toContain('ALTER ROLE :"u" WITH PASSWORD');

    // Re-sealed: new ciphertext, new revision, so both workloads roll.
    const c2 = chart();
    const db2 = new Postgres(c2, 'shop-db', { image, credentials: PostgresCredentials.fromSealedSecret(sealFile(path.join(tmp, 'staging'), staging.certificate, { file: 'db-login' })) });
    expect(db2.login.revision).toMatch(/^[0-9a-f]{16}$/);
    expect(db2.login.revision).not.toBe(db.login.revision);
  });

  test('ExternalPostgres takes a sealed login: the SealedSecret is emitted beside its clients, which read it and roll with it; a plaintext login is refused', () => {
    const c = chart();
    const file = sealFile(path.join(tmp, 'staging'), staging.certificate, { file: 'ledger-login', name: 'ledger-login' });
    const ledger = new ExternalPostgres(c, 'ledger', {
      host: 'ledger.abc123.eu-west-1.rds.amazonaws.com',
      database: 'ledger',
      credentials: PostgresCredentials.fromSealedSecret(file),
      network: NetworkPeer.ipBlock('10.20.0.0/16'),
    });
    new GoWebService(c, 'shop', { image }).connectToPostgres(ledger);
    const objects = Testing.synth(c);
    expect(objects.filter(o => o.kind === 'SealedSecret').map(o => `${o.metadata.namespace ?? 'shop-staging'}/${o.metadata.name}`)).toEqual(['shop-staging/ledger-login']);
    const deployment = objects.find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.metadata.annotations[SECRETS_REVISION_ANNOTATION]).toBe(ledger.login.revision);
    const env = deployment.spec.template.spec.containers[0].env;
    expect(env.find((e: any) => e.name === 'PGPASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'ledger-login', key: 'password' });

    expect(() => new ExternalPostgres(chart(), 'ledger', {
      host: 'ledger.example.com', database: 'ledger', credentials: PostgresCredentials.devOnlyPlaintext({ password: 'dev-password-1' }), network: NetworkPeer.ipBlock('10.20.0.0/16'),
    })).toThrow(/^shop\/ledger: credentials are a plaintext password: reference a Secret .* or a sealed one \(PostgresCredentials.fromSealedSecret\(\)\)/);
  });

  test('the Ingress terminates TLS with a sealed kubernetes.io/tls Secret; not together with tlsSecretName', () => {
    const c = chart();
    const tls = sealFile(path.join(tmp, 'staging'), staging.certificate, { name: 'shop-tls', type: 'kubernetes.io/tls', values: { 'tls.crt': 'c', 'tls.key': 'k' } });
    new GoWebService(c, 'shop', { image, ingress: { host: 'shop.example', tlsSealedSecret: tls } });
    const objects = Testing.synth(c);
    expect(objects.find(o => o.kind === 'Ingress').spec.tls).toEqual([{ hosts: ['shop.example'], secretName: 'shop-tls' }]);
    expect(objects.find(o => o.kind === 'SealedSecret').spec.template.type).toBe('kubernetes.io/tls');
    expect(() => new GoWebService(chart(), 'shop', { image, ingress: { host: 'shop.example', tlsSealedSecret: tls, tlsSecretName: 'other' } }))
      .toThrow(/^shop\/shop: ingress sets both tlsSecretName "other" and tlsSealedSecret .*shop-tls\.yaml: give one/);
  });

  test('secretEnv takes a sealed key: the pods roll when it is re-sealed; an unknown key is refused', () => {
    const c = new Chart(new App(), 'shop', { namespace: 'shop-staging' });
    const api = new SealedSecret(c, 'api-token', { file: sealFile(path.join(tmp, 'staging'), staging.certificate, { name: 'api-token', values: { token: 't' } }) });
    new GoWebService(c, 'shop', { image, secretEnv: { API_TOKEN: api.keyRef('token') } });
    const deployment = Testing.synth(c).find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env).toEqual([{ name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'api-token', key: 'token' } } }]);
    expect(deployment.spec.template.metadata.annotations[SECRETS_REVISION_ANNOTATION]).toBe(api.revision);
    expect(() => api.keyRef('secret')).toThrow(/^shop\/api-token: api-token has no key "secret" \(it holds token\)/);
  });
});
