import * as crypto from 'crypto';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { SEALED_WITH_ANNOTATION, SealedSecretContents, SealedSecretFile, SCOPE_ANNOTATIONS } from './sealed-secret-file';
import { SealingScope } from './sealing-certificate';
import * as bitnami from '../../imports/sealed-secrets-bitnami.com';
import { ValidationError } from '../common/validation-error';
import type { SecretKeyRef } from '../service/env-value';

/**
 * Pod template annotation holding the revisions of the sealed Secrets the pods
 * read: re-sealing changes it, so the pods roll and read the new values.
 */
export const SECRETS_REVISION_ANNOTATION = 'acme.io/secrets-revision';

/** Props of {@link SealedSecret}. */
export interface SealedSecretProps {
  /** The committed sealed file (`cdk8s-gitops secrets seal` writes it). */
  readonly file: SealedSecretFile;
  /**
   * Name the Secret must have where it is used: a file sealed for another
   * name is refused (with strict scope the controller could not open it).
   * @default - the name recorded in the file
   */
  readonly name?: string;
  /**
   * Keys the file must hold, such as `username` and `password`.
   * @default - none required
   */
  readonly requiredKeys?: readonly string[];
  /**
   * Type the Secret must have, such as `kubernetes.io/tls`.
   * @default - any type
   */
  readonly type?: string;
  /**
   * Scopes accepted. Strict binds each value to its namespace and name, so a
   * file copied elsewhere cannot be opened; wider scopes let anyone who may
   * create a SealedSecret in the namespace (or cluster) read the values.
   * @default [SealingScope.STRICT]
   */
  readonly allowedScopes?: readonly SealingScope[];
  /**
   * Labels of the SealedSecret.
   * @default - none besides the chart's
   */
  readonly labels?: Record<string, string>;
}

/**
 * A SealedSecret (bitnami.com/v1alpha1) read from a committed sealed file:
 * the Sealed Secrets controller in the cluster decrypts it into a Secret of
 * the same name, so the repository holds no plaintext credential and a
 * cluster rebuilds from git alone.
 *
 * Synth never seals (sealing is random): it copies the committed ciphertext,
 * so the output is deterministic. It refuses, naming this construct and the
 * value, a file whose recorded namespace or name differs from where it is
 * used, whose scope is wider than allowed, or that was sealed with another
 * certificate than the one committed beside it.
 */
export class SealedSecret extends Construct {
  /** Name of the SealedSecret and of the Secret the controller creates. */
  public readonly name: string;
  /** The keys sealed in it. */
  public readonly keys: readonly string[];
  /** Fingerprint of the certificate the values are sealed with. */
  public readonly sealedWith: string;
  /**
   * A short hash of the sealed values: changes whenever they are re-sealed,
   * so pod templates annotated with it roll when a credential rotates.
   */
  public readonly revision: string;
  /** What the file holds. */
  public readonly contents: SealedSecretContents;

  constructor(scope: Construct, id: string, props: SealedSecretProps) {
    super(scope, id);
    const file = props.file.path;
    const contents = readOrFail(this, () => props.file.read());
    const fix = `seal it for this place with 'cdk8s-gitops secrets seal --env <environment> --secret ${props.name ?? contents.name}' instead of copying it`;
    const namespace = Chart.of(this).namespace;
    if (namespace === undefined) {
      ValidationError.fail(this, `the chart has no namespace, so ${file} (sealed for namespace "${contents.namespace}") cannot be checked: give the chart a namespace`);
    }
    if (contents.namespace !== namespace && contents.scope !== SealingScope.CLUSTER_WIDE) {
      ValidationError.fail(this, `${file} is sealed for namespace "${contents.namespace}", but is used in namespace "${namespace}": the controller cannot open it here; ${fix}`);
    }
    if (props.name !== undefined && contents.name !== props.name) {
      ValidationError.fail(this, `${file} is sealed for the Secret "${contents.name}", but is used as "${props.name}": ${fix}`);
    }
    const allowed = props.allowedScopes ?? [SealingScope.STRICT];
    if (!allowed.includes(contents.scope)) {
      ValidationError.fail(this, `${file} is sealed with scope ${contents.scope}, but only ${allowed.join(', ')} is allowed here: re-seal it with the default strict scope, or allow the scope with allowedScopes`);
    }
    const certificate = readOrFail(this, () => props.file.readCertificate());
    if (contents.sealedWith !== certificate.fingerprint) {
      ValidationError.fail(this, `${file} is sealed with the key ${contents.sealedWith}, but the environment's certificate ${props.file.certificatePath} has the key ${certificate.fingerprint}: `
        + "the controller holding that key cannot open it; re-encrypt it with 'cdk8s-gitops secrets reencrypt' (or re-seal the values)");
    }
    const missing = (props.requiredKeys ?? []).filter(k => !(k in contents.encryptedData));
    if (missing.length > 0) {
      ValidationError.fail(this, `${file} lacks the key(s) ${missing.join(', ')} (it holds ${Object.keys(contents.encryptedData).join(', ')}): seal them with 'cdk8s-gitops secrets seal --key <key>'`);
    }
    const type = contents.type ?? 'Opaque';
    if (props.type !== undefined && type !== props.type) {
      ValidationError.fail(this, `${file} makes a Secret of type "${type}", but "${props.type}" is needed here: re-seal it with --type ${props.type}`);
    }

    this.contents = contents;
    this.name = contents.name;
    this.keys = Object.keys(contents.encryptedData).sort();
    this.sealedWith = contents.sealedWith;
    this.revision = crypto.createHash('sha256').update(JSON.stringify(this.keys.map(k => [k, contents.encryptedData[k]]))).digest('hex').slice(0, 16);
    const scopeAnnotation = Object.entries(SCOPE_ANNOTATIONS).find(([, s]) => s === contents.scope)?.[0];
    new bitnami.SealedSecret(this, 'Resource', {
      metadata: {
        name: this.name,
        labels: props.labels,
        annotations: { [SEALED_WITH_ANNOTATION]: this.sealedWith, ...(scopeAnnotation ? { [scopeAnnotation]: 'true' } : {}) },
      },
      spec: {
        encryptedData: Object.fromEntries(this.keys.map(k => [k, contents.encryptedData[k]])),
        template: { metadata: { name: this.name, labels: props.labels }, type },
      },
    });
  }

  /**
   * A reference to one key of the Secret, for `secretEnv` and the like.
   * @throws ValidationError when the file does not hold `key`
   */
  public keyRef(key: string): SecretKeyRef {
    if (!this.keys.includes(key)) {
      ValidationError.fail(this, `${this.name} has no key "${key}" (it holds ${this.keys.join(', ')}): seal it with 'cdk8s-gitops secrets seal --key ${key}'`);
    }
    return { secretName: this.name, key, revision: this.revision };
  }
}

function readOrFail<T>(scope: Construct, read: () => T): T {
  try {
    return read();
  } catch (e) {
    return ValidationError.fail(scope, (e as Error).message);
  }
}
