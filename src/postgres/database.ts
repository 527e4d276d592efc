import { IConstruct } from 'constructs';
import { NetworkPeer } from '../common/network';

/** The Secret a client reads its Postgres login from. */
export interface PostgresLogin {
  /** Name of the Secret, in the client's namespace. */
  readonly secretName: string;
  /** Key holding the user name. */
  readonly usernameKey: string;
  /** Key holding the password. */
  readonly passwordKey: string;
  /**
   * Changes whenever the login's values change (a sealed Secret's revision):
   * clients annotate their pods with it, so they roll when the password rotates.
   * @default - the clients do not roll when the Secret changes
   */
  readonly revision?: string;
}

/** libpq's `sslmode`: how a client insists on TLS. */
export type PostgresSslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/**
 * A Postgres database that a service connects to with
 * `GoWebService.connectToPostgres`: the StatefulSet {@link Postgres} of this
 * library, a database run by an operator or in another namespace, or one
 * outside the cluster ({@link ExternalPostgres}). Implement it to plug in
 * your own.
 */
export interface IPostgresDatabase extends IConstruct {
  /** Host name (or address) clients connect to. */
  readonly host: string;
  /** TCP port clients connect to. */
  readonly port: number;
  /** Name of the database clients use. */
  readonly databaseName: string;
  /** The Secret holding the login clients use. */
  readonly login: PostgresLogin;
  /** Where the clients' pods must be allowed to connect to: the database's pods, a namespace or an address range. */
  readonly networkPeer: NetworkPeer;
  /**
   * The `sslmode` clients use unless `connectToPostgres` sets one.
   * @default 'prefer'
   */
  readonly sslMode?: PostgresSslMode;
  /**
   * Argo CD sync wave of the database's objects; connected services get a later one.
   * @default - not in this tree: connecting does not change the client's wave
   */
  readonly syncWave?: number;
  /**
   * Admits `client`'s pods to the database port, where the database's own
   * NetworkPolicy is part of this tree (a database outside it does nothing).
   * @param id distinguishes clients; each may be admitted once
   */
  allowConnectionsFrom(id: string, client: NetworkPeer): void;
}
