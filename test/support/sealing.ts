import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * A key pair like the Sealed Secrets controller's (RSA, self-signed), made by
 * openssl: `<dir>/certificate.pem` (where `npm run secrets` looks for an
 * environment's certificate) and `keyFile`, which the caller keeps elsewhere.
 */
export function makeSealingKey(dir: string, keyFile: string, bits = 4096): crypto.KeyObject {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', `rsa:${bits}`, '-nodes', '-keyout', keyFile, '-out', path.join(dir, 'certificate.pem'),
    '-days', '30', '-subj', '/CN=sealed-secret'], { stdio: 'ignore' });
  return crypto.createPrivateKey(fs.readFileSync(keyFile));
}

/**
 * Opens a sealed value as the controller's HybridDecrypt does: RSA-OAEP
 * (SHA-256, the scope's label) unwraps the session key, AES-256-GCM with a
 * zero nonce the value. The end-to-end test opens them with the real kubeseal.
 */
export function openSealed(privateKey: crypto.KeyObject, sealed: string, label: string): string {
  const data = Buffer.from(sealed, 'base64');
  const rsaLength = data.readUInt16BE(0);
  const sessionKey = crypto.privateDecrypt({ key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) },
    data.subarray(2, 2 + rsaLength));
  const body = data.subarray(2 + rsaLength);
  const decipher = crypto.createDecipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf-8');
}
