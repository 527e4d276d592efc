import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { SEALED_SECRETS_CONTROLLER, SEALED_SECRETS_NAMESPACE } from './controller';
import { CERTIFICATE_FILE, SealedSecretContents, SealedSecretFile } from './sealed-secret-file';
import { SealingCertificate, SealingScope } from './sealing-certificate';
import { Flags, readCommandLine, UsageError } from '../common/cli-flags';
import { CommandIo } from '../common/command-io';
import { GitOpsRepository } from '../gitops/gitops-repository';

/** Where `cdk8s-gitops secrets` keeps each environment's certificate and sealed files, relative to the repository root. */
export const SEALED_SECRETS_DIR = 'sealed-secrets';
/** Exit status of `cdk8s-gitops secrets` when it could not do what was asked (bad usage, unreadable file, cluster unreachable). */
export const SECRETS_ERROR_EXIT = 2;

/** Usage of `cdk8s-gitops secrets`. */
export const SECRETS_USAGE = `usage: secrets <command> [flags]

  seal --env ENV --secret NAME --key KEY [--generate password] [--type TYPE] [--scope strict|namespace-wide|cluster-wide]
      Seals one value with ENV's committed certificate (${SEALED_SECRETS_DIR}/ENV/${CERTIFICATE_FILE}) into
      ${SEALED_SECRETS_DIR}/ENV/NAME.yaml, adding KEY to what the file holds. The value is read from standard input
      (one trailing newline dropped) or, with --generate password, made here (32 random bytes, base64url);
      it is never written to disk or printed. --type sets the Secret's type (default Opaque).
  fetch-cert --env ENV [--controller-namespace NS]
      Fetches the certificate of the controller of your kubeconfig's cluster (through the API server's
      service proxy) into ${SEALED_SECRETS_DIR}/ENV/${CERTIFICATE_FILE}, and lists the files it no longer matches.
  reencrypt --env ENV [--controller-namespace NS]
      Fetches the certificate, then has the controller re-encrypt every sealed file of ENV with its newest key
      (its /v1/rotate endpoint: no plaintext leaves the cluster), and records the new fingerprint.
  list [--env ENV]
      What is sealed where: each environment's certificate (fingerprint, expiry) and sealed files (Secret,
      namespace, scope, keys, and whether they match the certificate).

SEALED_SECRETS_DIR moves ${SEALED_SECRETS_DIR}/. KUBECTL names the kubectl to run (default: kubectl on PATH). Exit status: 0 done, 1 list found files that do
not match their certificate, ${SECRETS_ERROR_EXIT} error.`;

const SCOPES = Object.values(SealingScope) as string[];
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * The authoring command of sealed Secrets: seals values for an environment
 * with its committed certificate (sealing happens here, never at synth),
 * fetches a cluster's certificate, re-encrypts with a new one, and lists what
 * is sealed where.
 * @returns the exit status (see {@link SECRETS_USAGE})
 */
export function secretsCommand(repository: GitOpsRepository<any>, argv: readonly string[], io: CommandIo): number {
  const [command, ...rest] = argv;
  const commands: Record<string, (flags: Flags) => number> = {
    'seal': flags => seal(repository, flags, io),
    'fetch-cert': flags => fetchCertificate(flags, io),
    'reencrypt': flags => reencrypt(flags, io),
    'list': flags => list(repository, flags, io),
  };
  if (command === '--help' || command === undefined) {
    (command ? io.stdout : io.stderr)(`${SECRETS_USAGE}\n`);
    return command ? 0 : SECRETS_ERROR_EXIT;
  }
  const run = commands[command];
  const flags = readCommandLine(rest, {
    values: ['env', 'secret', 'key', 'generate', 'type', 'scope', 'controller-namespace'],
    switches: [],
    usage: SECRETS_USAGE,
    usageExit: SECRETS_ERROR_EXIT,
    check: parsed => {
      if (!run) throw new UsageError(`unknown command "${command}": use seal, fetch-cert, reencrypt or list`);
      const env = parsed.value('env');
      if (env !== undefined && !repository.environmentNames.includes(env)) {
        throw new UsageError(`--env "${env}" is not one of the environments (${repository.environmentNames.join(', ')})`);
      }
      if (command !== 'list' && env === undefined) throw new UsageError(`${command} needs --env`);
      if (command === 'seal') {
        if (!SECRET_NAME.test(parsed.value('secret') ?? '')) throw new UsageError('seal needs --secret NAME, a lower-case DNS name');
        if (!SECRET_KEY.test(parsed.value('key') ?? '')) throw new UsageError('seal needs --key KEY (letters, digits, -, _ and .)');
        const generate = parsed.value('generate');
        if (generate !== undefined && generate !== 'password') throw new UsageError(`--generate "${generate}": only "password" can be generated`);
        const scope = parsed.value('scope');
        if (scope !== undefined && !SCOPES.includes(scope)) throw new UsageError(`--scope "${scope}" is not one of ${SCOPES.join(', ')}`);
      }
    },
  }, io);
  if (typeof flags === 'number') return flags;
  try {
    return run(flags);
  } catch (e) {
    io.stderr(`secrets ${command} failed: ${(e as Error).message}\n`);
    return SECRETS_ERROR_EXIT;
  }
}

function environmentDir(io: CommandIo, env: string): string {
  return path.resolve(io.cwd, io.env.SEALED_SECRETS_DIR ?? SEALED_SECRETS_DIR, env);
}

function namespaceOf(repository: GitOpsRepository<any>, env: string): string {
  return repository.environments.find(e => e.name === env)!.namespace;
}

function seal(repository: GitOpsRepository<any>, flags: Flags, io: CommandIo): number {
  const env = flags.value('env')!;
  const name = flags.value('secret')!;
  const key = flags.value('key')!;
  const namespace = namespaceOf(repository, env);
  const scope = (flags.value('scope') ?? SealingScope.STRICT) as SealingScope;
  const certificate = SealingCertificate.fromFile(path.join(environmentDir(io, env), CERTIFICATE_FILE));
  const file = SealedSecretFile.inFolder(environmentDir(io, env), name);
  const existing = file.exists() ? file.read() : undefined;
  if (existing) {
    const differs = ([['namespace', existing.namespace, namespace], ['scope', existing.scope, scope], ['certificate', existing.sealedWith, certificate.fingerprint]] as const)
      .filter(([, was, now]) => was !== now);
    if (differs.length > 0) {
      throw new Error(`${file.path} holds values sealed with another ${differs.map(([what, was, now]) => `${what} (${was}, now ${now})`).join(' and ')}: `
        + (differs.some(([what]) => what === 'certificate') ? `run 'cdk8s-gitops secrets reencrypt --env ${env}' first, or delete the file and seal every key again` : 'delete the file and seal every key again'));
    }
    const type = flags.value('type');
    if (type !== undefined && type !== (existing.type ?? 'Opaque')) throw new Error(`${file.path} makes a Secret of type ${existing.type ?? 'Opaque'}, not ${type}: delete it and seal every key again`);
  }
  let value: Buffer;
  if (flags.value('generate') === 'password') {
    value = Buffer.from(crypto.randomBytes(32).toString('base64url'));
  } else {
    value = (io.stdin ?? (() => fs.readFileSync(0)))();
    if (value.length > 0 && value[value.length - 1] === 0x0a) value = value.subarray(0, value.length - 1);
    if (value.length === 0) throw new Error(`nothing to seal on standard input for ${key}: pipe the value in, or use --generate password`);
  }
  try {
    const contents: SealedSecretContents = {
      name,
      namespace,
      scope,
      sealedWith: certificate.fingerprint,
      encryptedData: { ...existing?.encryptedData, [key]: certificate.seal(value, namespace, name, scope) },
      type: flags.value('type') ?? existing?.type ?? 'Opaque',
    };
    SealedSecretFile.write(file.path, contents);
  } finally {
    value.fill(0);
  }
  io.stderr(`sealed ${key} of Secret ${namespace}/${name} (${scope}) with ${certificate.fingerprint} into ${path.relative(io.cwd, file.path)}; commit it\n`);
  return 0;
}

/** `kubectl get --raw` / `create --raw` through the API server's proxy to the controller's HTTP port. */
function controller(io: CommandIo, flags: Flags, verb: 'get' | 'create', endpoint: string, body?: string): string {
  const ns = flags.value('controller-namespace') ?? SEALED_SECRETS_NAMESPACE;
  const url = `/api/v1/namespaces/${ns}/services/http:${SEALED_SECRETS_CONTROLLER}:http/proxy${endpoint}`;
  const kubectl = io.env.KUBECTL ?? 'kubectl';
  const r = spawnSync(kubectl, [verb, '--raw', url, ...(body !== undefined ? ['-f', '-'] : [])], { env: io.env, input: body, encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run ${kubectl}: ${r.error.message} (set KUBECTL)`);
  if (r.status !== 0) throw new Error(`${kubectl} ${verb} --raw ${url} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

function sealedFiles(io: CommandIo, env: string): SealedSecretFile[] {
  const dir = environmentDir(io, env);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(f => f.endsWith('.yaml')).sort().map(f => SealedSecretFile.fromFile(path.join(dir, f)));
}

function fetchCertificate(flags: Flags, io: CommandIo): number {
  const env = flags.value('env')!;
  storeCertificate(env, SealingCertificate.fromPem(controller(io, flags, 'get', '/v1/cert.pem')), io);
  return 0;
}

function storeCertificate(env: string, certificate: SealingCertificate, io: CommandIo): void {
  const file = path.join(environmentDir(io, env), CERTIFICATE_FILE);
  const before = fs.existsSync(file) ? SealingCertificate.fromFile(file).fingerprint : undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, certificate.pem.endsWith('\n') ? certificate.pem : `${certificate.pem}\n`);
  io.stderr(`${path.relative(io.cwd, file)}: ${certificate.fingerprint}, expires ${certificate.expires.toISOString()}${before === undefined ? ' (new)' : before === certificate.fingerprint ? ' (unchanged)' : ` (was ${before})`}\n`);
  const stale = sealedFiles(io, env).filter(f => f.read().sealedWith !== certificate.fingerprint);
  if (stale.length > 0) {
    io.stderr(`sealed with another key, refused by synth until re-encrypted ('cdk8s-gitops secrets reencrypt --env ${env}'): ${stale.map(f => path.relative(io.cwd, f.path)).join(', ')}\n`);
  }
}

function reencrypt(flags: Flags, io: CommandIo): number {
  const env = flags.value('env')!;
  const certificate = SealingCertificate.fromPem(controller(io, flags, 'get', '/v1/cert.pem'));
  const files = sealedFiles(io, env);
  // Every file is re-encrypted before any is written, so a failure leaves them all as they were.
  const rotated = files.map((file, i) => {
    const contents = file.read();
    io.stderr(`[reencrypt ${i + 1}/${files.length}] ${path.relative(io.cwd, file.path)}\n`);
    const manifest = JSON.parse(controller(io, flags, 'create', '/v1/rotate', JSON.stringify(YAML.parse(fs.readFileSync(file.path, 'utf-8')))));
    const encryptedData: Record<string, string> = manifest?.spec?.encryptedData ?? {};
    if (Object.keys(encryptedData).sort().join() !== Object.keys(contents.encryptedData).sort().join()) {
      throw new Error(`the controller returned other keys for ${file.path}: ${Object.keys(encryptedData).join(', ')}`);
    }
    return { file, contents: { ...contents, encryptedData, sealedWith: certificate.fingerprint } };
  });
  storeCertificate(env, certificate, { ...io, stderr: () => undefined });
  for (const { file, contents } of rotated) SealedSecretFile.write(file.path, contents);
  io.stderr(`re-encrypted ${rotated.length} file(s) of ${env} with ${certificate.fingerprint}; commit ${SEALED_SECRETS_DIR}/${env}\n`);
  return 0;
}

function list(repository: GitOpsRepository<any>, flags: Flags, io: CommandIo): number {
  const envs = flags.has('env') ? [flags.value('env')!] : repository.environmentNames;
  let mismatched = 0;
  for (const env of envs) {
    const certFile = path.join(environmentDir(io, env), CERTIFICATE_FILE);
    const certificate = fs.existsSync(certFile) ? SealingCertificate.fromFile(certFile) : undefined;
    io.stdout(`${env} (namespace ${namespaceOf(repository, env)}): certificate ${certificate ? `${certificate.fingerprint}, expires ${certificate.expires.toISOString()}` : 'none'}\n`);
    for (const file of sealedFiles(io, env)) {
      const c = file.read();
      const ok = certificate !== undefined && c.sealedWith === certificate.fingerprint;
      if (!ok) mismatched++;
      io.stdout(`  ${path.relative(io.cwd, file.path)}: Secret ${c.namespace}/${c.name} (${c.type ?? 'Opaque'}, ${c.scope}) keys ${Object.keys(c.encryptedData).sort().join(', ')}; `
        + `sealed with ${c.sealedWith}${ok ? '' : ' — DOES NOT MATCH the certificate: re-encrypt'}\n`);
    }
  }
  return mismatched > 0 ? 1 : 0;
}
