import * as crypto from 'crypto';
import * as fs from 'fs';

/** How far a sealed value is bound: the Sealed Secrets controller's scopes. */
export enum SealingScope {
  /** Only a Secret of this name in this namespace can hold the value (the default, and the safe one). */
  STRICT = 'strict',
  /** Any Secret name in this namespace. */
  NAMESPACE_WIDE = 'namespace-wide',
  /** Any namespace and name: whoever may create a SealedSecret anywhere can read it. */
  CLUSTER_WIDE = 'cluster-wide',
}

/**
 * The label the Sealed Secrets controller binds a sealed value to
 * (`EncryptionLabel` in its `pkg/apis/sealedsecrets/v1alpha1`):
 * `namespace/name`, `namespace` or empty.
 */
export function sealingLabel(namespace: string, name: string, scope: SealingScope): string {
  switch (scope) {
    case SealingScope.CLUSTER_WIDE: return '';
    case SealingScope.NAMESPACE_WIDE: return namespace;
    default: return `${namespace}/${name}`;
  }
}

/**
 * The public certificate of a Sealed Secrets controller: what an
 * environment's values are sealed with. Committed beside the sealed files
 * (`sealed-secrets/<environment>/certificate.pem`); only the controller holds
 * the private key.
 */
export class SealingCertificate {
  /** Reads a PEM certificate file. */
  public static fromFile(file: string): SealingCertificate {
    return SealingCertificate.fromPem(fs.readFileSync(file, 'utf-8'));
  }

  /**
   * Parses a PEM certificate, as the controller serves it at `/v1/cert.pem`.
   * @throws Error when it is not an X.509 certificate with an RSA key
   */
  public static fromPem(pem: string): SealingCertificate {
    const certificate = new crypto.X509Certificate(pem);
    if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
      throw new Error(`the certificate's key is ${certificate.publicKey.asymmetricKeyType}, not RSA: it is not a Sealed Secrets certificate`);
    }
    return new SealingCertificate(certificate, pem);
  }

  /**
   * The public key's fingerprint as the controller and kubeseal print it
   * (`SHA256:` and the unpadded base64 of the SHA-256 of its SSH encoding):
   * two certificates of one key have the same fingerprint.
   */
  public readonly fingerprint: string;
  /** End of the certificate's validity. Sealing ignores it (so does kubeseal); `list` reports it. */
  public readonly expires: Date;

  private constructor(private readonly certificate: crypto.X509Certificate, /** The certificate, PEM. */ public readonly pem: string) {
    this.fingerprint = sshFingerprint(certificate.publicKey);
    this.expires = new Date(certificate.validTo);
  }

  /**
   * Seals `value` for a Secret `name` in `namespace` the way kubeseal does
   * (`HybridEncrypt`): a random AES-256 session key, RSA-OAEP (SHA-256)
   * encrypted with the scope's label, then the value under AES-256-GCM with a
   * zero nonce (the key is used once). Random: sealing twice gives different
   * ciphertexts, so sealing belongs to the authoring command, never to synth.
   * @returns base64 of `len(rsa) (2 bytes) | rsa ciphertext | aes-gcm ciphertext and tag`
   */
  public seal(value: Buffer, namespace: string, name: string, scope: SealingScope = SealingScope.STRICT): string {
    const sessionKey = crypto.randomBytes(32);
    try {
      const wrappedKey = crypto.publicEncrypt({
        key: this.certificate.publicKey,
        padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
        oaepLabel: Buffer.from(sealingLabel(namespace, name, scope)),
      }, sessionKey);
      const cipher = crypto.createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
      const length = Buffer.alloc(2);
      length.writeUInt16BE(wrappedKey.length);
      return Buffer.concat([length, wrappedKey, cipher.update(value), cipher.final(), cipher.getAuthTag()]).toString('base64');
    } finally {
      sessionKey.fill(0);
    }
  }
}

/** `ssh.FingerprintSHA256(ssh.NewPublicKey(key))` of Go's x/crypto: the controller's key fingerprint. */
function sshFingerprint(key: crypto.KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const sshString = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length);
    return Buffer.concat([length, b]);
  };
  // An mpint is big-endian two's complement: a leading zero byte keeps a set high bit positive.
  const mpint = (base64url: string) => {
    const b = Buffer.from(base64url, 'base64url');
    return sshString(b[0] >= 0x80 ? Buffer.concat([Buffer.alloc(1), b]) : b);
  };
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
