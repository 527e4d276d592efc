import * as fs from 'fs';
import * as nodePath from 'path';
import * as YAML from 'yaml';
import { SealingCertificate, SealingScope } from './sealing-certificate';

/** Annotation of a sealed file (and of the SealedSecret synthesized from it): the certificate's key fingerprint. */
export const SEALED_WITH_ANNOTATION = 'acme.io/sealed-with';
/** The controller's annotations that widen a sealed value's scope. */
export const SCOPE_ANNOTATIONS: Readonly<Record<string, SealingScope>> = {
  'sealedsecrets.bitnami.com/cluster-wide': SealingScope.CLUSTER_WIDE,
  'sealedsecrets.bitnami.com/namespace-wide': SealingScope.NAMESPACE_WIDE,
};
/** Name of an environment's certificate inside its folder of sealed files. */
export const CERTIFICATE_FILE = 'certificate.pem';

/** What a committed sealed file holds: a SealedSecret, which only the controller can open. */
export interface SealedSecretContents {
  /** Name of the Secret the controller creates; bound into the values with strict scope. */
  readonly name: string;
  /** Namespace of the Secret; bound into the values unless the scope is cluster-wide. */
  readonly namespace: string;
  /** The scope the values were sealed with. */
  readonly scope: SealingScope;
  /** Key fingerprint of the certificate the values were sealed with (`SHA256:...`). */
  readonly sealedWith: string;
  /** Sealed value per Secret key (base64 of the ciphertext). */
  readonly encryptedData: Readonly<Record<string, string>>;
  /**
   * Type of the Secret.
   * @default 'Opaque'
   */
  readonly type?: string;
}

/**
 * A sealed file committed to the repository: a `bitnami.com/v1alpha1`
 * SealedSecret manifest, as `kubeseal` writes it (so `kubeseal
 * --recovery-unseal` reads it too), plus the fingerprint of the certificate
 * it was sealed with. By convention it lies beside that certificate:
 * `sealed-secrets/<environment>/<secret name>.yaml` next to `certificate.pem`.
 *
 * Synth only reads these files; `cdk8s-gitops secrets seal` writes them.
 */
export class SealedSecretFile {
  /** A sealed file by its path (relative to the working directory); read when a construct uses it. */
  public static fromFile(file: string): SealedSecretFile {
    return new SealedSecretFile(file);
  }

  /** The file in `folder` of the Secret `name`: `<folder>/<name>.yaml`. */
  public static inFolder(folder: string, name: string): SealedSecretFile {
    return new SealedSecretFile(nodePath.join(folder, `${name}.yaml`));
  }

  /** Writes `contents` as a sealed file (creating its folder). */
  public static write(file: string, contents: SealedSecretContents): void {
    fs.mkdirSync(nodePath.dirname(file), { recursive: true });
    const scopeAnnotation = Object.entries(SCOPE_ANNOTATIONS).find(([, s]) => s === contents.scope)?.[0];
    const manifest = {
      apiVersion: 'bitnami.com/v1alpha1',
      kind: 'SealedSecret',
      metadata: {
        name: contents.name,
        namespace: contents.namespace,
        annotations: { [SEALED_WITH_ANNOTATION]: contents.sealedWith, ...(scopeAnnotation ? { [scopeAnnotation]: 'true' } : {}) },
      },
      spec: {
        encryptedData: Object.fromEntries(Object.entries(contents.encryptedData).sort(([a], [b]) => a.localeCompare(b))),
        template: { metadata: { name: contents.name, namespace: contents.namespace }, type: contents.type ?? 'Opaque' },
      },
    };
    const header = `# Sealed by \`cdk8s-gitops secrets seal\` with ${contents.sealedWith}: only that key's controller can open it. Commit it; never edit by hand.\n`;
    const tmp = `${file}.tmp-${process.pid}`;
    // YAML 1.1, as kubeseal and kubectl read it: a name such as n or yes is quoted, not a boolean.
    fs.writeFileSync(tmp, header + YAML.stringify(manifest, { lineWidth: 0, version: '1.1' }));
    fs.renameSync(tmp, file);
  }

  private constructor(
    /** Path of the file. */
    public readonly path: string,
  ) {}

  /** Path of the certificate the file must have been sealed with: `certificate.pem` in its folder. */
  public get certificatePath(): string {
    return nodePath.join(nodePath.dirname(this.path), CERTIFICATE_FILE);
  }

  /** Whether the file exists. */
  public exists(): boolean {
    return fs.existsSync(this.path);
  }

  /**
   * Reads and checks the file.
   * @throws Error naming the file when it is missing or not a sealed file
   */
  public read(): SealedSecretContents {
    let manifest: any;
    try {
      manifest = YAML.parse(fs.readFileSync(this.path, 'utf-8'), { version: '1.1' });
    } catch (e) {
      throw new Error(`sealed file ${this.path} cannot be read (${(e as Error).message}): seal it with 'cdk8s-gitops secrets seal'`);
    }
    const bad = (what: string) => new Error(`sealed file ${this.path} ${what}: re-seal it with 'cdk8s-gitops secrets seal'`);
    if (manifest?.apiVersion !== 'bitnami.com/v1alpha1' || manifest?.kind !== 'SealedSecret') throw bad('is not a bitnami.com/v1alpha1 SealedSecret');
    const metadata = manifest.metadata ?? {};
    if (typeof metadata.name !== 'string' || typeof metadata.namespace !== 'string') throw bad('has no metadata.name and metadata.namespace');
    const annotations: Record<string, string> = metadata.annotations ?? {};
    const sealedWith = annotations[SEALED_WITH_ANNOTATION];
    if (typeof sealedWith !== 'string') throw bad(`does not record the certificate it was sealed with (annotation ${SEALED_WITH_ANNOTATION})`);
    const encryptedData = manifest.spec?.encryptedData;
    if (encryptedData === null || typeof encryptedData !== 'object' || Object.keys(encryptedData).length === 0) throw bad('has no spec.encryptedData');
    // The controller reads the cluster-wide annotation first, then the namespace-wide one.
    const scope = Object.entries(SCOPE_ANNOTATIONS).find(([a]) => annotations[a] === 'true')?.[1] ?? SealingScope.STRICT;
    return {
      name: metadata.name,
      namespace: metadata.namespace,
      scope,
      sealedWith,
      encryptedData: Object.fromEntries(Object.entries(encryptedData).map(([k, v]) => [k, String(v)])),
      type: manifest.spec?.template?.type,
    };
  }

  /**
   * The certificate beside the file.
   * @throws Error naming the path when it is missing or not a certificate
   */
  public readCertificate(): SealingCertificate {
    try {
      return SealingCertificate.fromFile(this.certificatePath);
    } catch (e) {
      throw new Error(`the certificate ${this.certificatePath} beside ${nodePath.basename(this.path)} cannot be read (${(e as Error).message}): fetch it with 'cdk8s-gitops secrets fetch-cert'`);
    }
  }
}
