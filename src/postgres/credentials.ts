import { SealedSecretFile } from '../sealed-secrets/sealed-secret-file';

/** How {@link PostgresCredentials} carry the login. */
export enum CredentialsSource {
  /** A Secret created outside git (sealed-secrets, external-secrets, by hand). */
  EXISTING_SECRET = 'existing-secret',
  /** A SealedSecret committed to git, opened by the Sealed Secrets controller in the cluster. */
  SEALED_SECRET = 'sealed-secret',
  /** A Secret with the password in the manifest: dev only. */
  DEV_PLAINTEXT = 'dev-plaintext',
}

/** Options of {@link PostgresCredentials.fromExistingSecret}. */
export interface ExistingSecretOptions {
  /**
   * Key holding the user name.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key holding the password.
   * @default 'password'
   */
  readonly passwordKey?: string;
}

/** Options of {@link PostgresCredentials.devOnlyPlaintext}. */
export interface DevCredentialsOptions {
  /**
   * User name.
   * @default 'app'
   */
  readonly username?: string;
  /** Password, written into the committed manifest. */
  readonly password: string;
}

/**
 * The login of the Postgres superuser the app connects as.
 *
 * Outside dev the password never appears in committed YAML: the construct
 * references a Secret that exists in the cluster already.
 */
export class PostgresCredentials {
  /** Reference a Secret created outside git, in the database's namespace. */
  public static fromExistingSecret(secretName: string, options: ExistingSecretOptions = {}): PostgresCredentials {
    return new PostgresCredentials(CredentialsSource.EXISTING_SECRET, secretName, options.usernameKey ?? 'username', options.passwordKey ?? 'password');
  }

  /**
   * A SealedSecret read from a committed sealed file (`cdk8s-gitops secrets seal` writes
   * it; keys `username` and `password` unless `options` say otherwise). The
   * database emits it, checked against its namespace and certificate, and
   * applies the unsealed password to its role at every start, so re-sealing a
   * new password rotates the login: the database and its clients roll
   * because the sealed values changed.
   */
  public static fromSealedSecret(file: SealedSecretFile, options: ExistingSecretOptions = {}): PostgresCredentials {
    return new PostgresCredentials(CredentialsSource.SEALED_SECRET, undefined, options.usernameKey ?? 'username', options.passwordKey ?? 'password', undefined, file);
  }

  /**
   * A dev-only Secret emitted with the manifests, password in plain text.
   * Postgres refuses it unless `allowPlaintextCredentials` is set.
   */
  public static devOnlyPlaintext(options: DevCredentialsOptions): PostgresCredentials {
    return new PostgresCredentials(CredentialsSource.DEV_PLAINTEXT, undefined, 'username', 'password', {
      username: options.username ?? 'app',
      password: options.password,
    });
  }

  private constructor(
    /** Where the login comes from. */
    public readonly source: CredentialsSource,
    /** Name of the existing Secret; undefined for a dev or sealed Secret, which the construct names. */
    public readonly secretName: string | undefined,
    /** Key holding the user name. */
    public readonly usernameKey: string,
    /** Key holding the password. */
    public readonly passwordKey: string,
    /** The plaintext login of a dev Secret. */
    public readonly plaintext?: { readonly username: string; readonly password: string },
    /** The committed sealed file of a sealed Secret. */
    public readonly sealedFile?: SealedSecretFile,
  ) {}
}
