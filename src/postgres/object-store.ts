import { Construct } from 'constructs';
import { checkDnsLabel } from '../common/checks';
import { NetworkPeer } from '../common/network';
import { ValidationError } from '../common/validation-error';
import { SealedSecret } from '../sealed-secrets/sealed-secret';
import { SealedSecretFile } from '../sealed-secrets/sealed-secret-file';

/** Options of {@link ObjectStoreCredentials} factories: the Secret's keys. */
export interface ObjectStoreCredentialsOptions {
  /**
   * Key holding the S3 access key id.
   * @default 'ACCESS_KEY_ID'
   */
  readonly accessKeyIdKey?: string;
  /**
   * Key holding the S3 secret access key.
   * @default 'ACCESS_SECRET_KEY'
   */
  readonly secretAccessKeyKey?: string;
}

/**
 * The S3 access key CloudNativePG's barman-cloud tools use for an object
 * store: a Secret in the cluster's namespace, created outside git or sealed
 * in it. Never a plaintext key.
 */
export class ObjectStoreCredentials {
  /** A Secret created outside git, in the database's namespace. */
  public static fromExistingSecret(secretName: string, options: ObjectStoreCredentialsOptions = {}): ObjectStoreCredentials {
    return new ObjectStoreCredentials(secretName, undefined, options);
  }

  /**
   * A SealedSecret read from a committed sealed file (`cdk8s-gitops secrets seal
   * --key ACCESS_KEY_ID --key ACCESS_SECRET_KEY`); the database emits it.
   */
  public static fromSealedSecret(file: SealedSecretFile, options: ObjectStoreCredentialsOptions = {}): ObjectStoreCredentials {
    return new ObjectStoreCredentials(undefined, file, options);
  }

  /** Key holding the access key id. */
  public readonly accessKeyIdKey: string;
  /** Key holding the secret access key. */
  public readonly secretAccessKeyKey: string;

  private constructor(
    /** Name of the existing Secret; undefined for a sealed one, named by its file. */
    public readonly secretName: string | undefined,
    /** The committed sealed file of a sealed Secret. */
    public readonly sealedFile: SealedSecretFile | undefined,
    options: ObjectStoreCredentialsOptions,
  ) {
    this.accessKeyIdKey = options.accessKeyIdKey ?? 'ACCESS_KEY_ID';
    this.secretAccessKeyKey = options.secretAccessKeyKey ?? 'ACCESS_SECRET_KEY';
  }
}

/** An S3-compatible object store CloudNativePG archives WAL and base backups to, or restores from. */
export interface ObjectStoreOptions {
  /** The S3 endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://versitygw.storage:7070`. */
  readonly endpointUrl: string;
  /** Bucket and folder, e.g. `s3://backups/todo`; each cluster writes below `<destinationPath>/<cluster name>/`. */
  readonly destinationPath: string;
  /** The access key. */
  readonly credentials: ObjectStoreCredentials;
  /**
   * Where the object store is, for the instances' egress rule on the endpoint's
   * port: `NetworkPeer.ipBlock()` of the store's addresses, or its pods or
   * namespace when it runs in the cluster.
   */
  readonly network: NetworkPeer;
}

const sealedByScope = new WeakMap<Construct, Map<string, SealedSecret>>();
const DESTINATION = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9!_.*'()/-]*)?$/;

/** An object store as rendered into a Cluster: checked, with its Secret emitted once per name. @internal */
export interface RenderedObjectStore {
  readonly endpointURL: string;
  readonly destinationPath: string;
  readonly s3Credentials: {
    readonly accessKeyId: { readonly name: string; readonly key: string };
    readonly secretAccessKey: { readonly name: string; readonly key: string };
  };
  /** The egress rule's peer and port. */
  readonly peer: NetworkPeer;
  readonly port: number;
}

/**
 * Checks `store` (`what` names the prop in messages) and emits its sealed
 * Secret below `scope` unless one of that name was emitted already.
 * @internal
 */
export function renderObjectStore(scope: Construct, what: string, store: ObjectStoreOptions, labels: Record<string, string>): RenderedObjectStore {
  let url: URL | undefined;
  try {
    url = new URL(store.endpointUrl);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search !== '' || url.username !== '') {
    ValidationError.fail(scope, `${what}.endpointUrl "${store.endpointUrl}" is not an S3 endpoint: write it like "https://s3.eu-west-1.amazonaws.com" or "http://minio.storage:9000", without a path`);
  }
  if (!DESTINATION.test(store.destinationPath)) {
    ValidationError.fail(scope, `${what}.destinationPath "${store.destinationPath}" is not an S3 location: write it like "s3://bucket/folder" (a valid bucket name, then an optional path)`);
  }
  const credentials = store.credentials;
  let secretName: string;
  if (credentials.sealedFile) {
    // Backup and restore may share one store and its key: the SealedSecret is emitted once.
    const emitted = sealedByScope.get(scope) ?? new Map<string, SealedSecret>();
    sealedByScope.set(scope, emitted);
    const sealed = emitted.get(credentials.sealedFile.path) ?? new SealedSecret(scope, `SealedObjectStoreCredentials${emitted.size || ''}`, {
      file: credentials.sealedFile,
      requiredKeys: [credentials.accessKeyIdKey, credentials.secretAccessKeyKey],
      labels,
    });
    emitted.set(credentials.sealedFile.path, sealed);
    secretName = sealed.name;
  } else {
    secretName = credentials.secretName!;
  }
  checkDnsLabel(scope, `${what}.credentials secretName`, secretName);
  return {
    endpointURL: store.endpointUrl,
    destinationPath: store.destinationPath,
    s3Credentials: {
      accessKeyId: { name: secretName, key: credentials.accessKeyIdKey },
      secretAccessKey: { name: secretName, key: credentials.secretAccessKeyKey },
    },
    peer: store.network,
    port: url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
  };
}
