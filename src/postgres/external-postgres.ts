import { Construct } from 'constructs';
import { CredentialsSource, PostgresCredentials } from './credentials';
import { IPostgresDatabase, PostgresLogin, PostgresSslMode } from './database';
import { checkDnsLabel, checkPort } from '../common/checks';
import { NetworkPeer } from '../common/network';
import { ValidationError } from '../common/validation-error';
import { SealedSecret } from '../sealed-secrets/sealed-secret';

const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** Props of {@link ExternalPostgres}. */
export interface ExternalPostgresProps {
  /** Host name or IPv4 address of the database, e.g. `billing.abc123.eu-west-1.rds.amazonaws.com` or `db.data.svc.cluster.local`. */
  readonly host: string;
  /**
   * TCP port.
   * @default 5432
   */
  readonly port?: number;
  /** Name of the database clients use. */
  readonly database: string;
  /**
   * The login: an existing Secret in the clients' namespace, or a sealed one
   * (`PostgresCredentials.fromSealedSecret`), which this construct emits as a
   * SealedSecret there. Never a plaintext password.
   */
  readonly credentials: PostgresCredentials;
  /**
   * Where the database is, for the clients' egress rules: an address range
   * (`NetworkPeer.ipBlock('10.20.0.0/16')`), a namespace of this cluster
   * (`NetworkPeer.namespace('data')`) or pods in one
   * (`NetworkPeer.pods({ app: 'db' }, 'data')`).
   */
  readonly network: NetworkPeer;
  /**
   * The `sslmode` clients use unless `connectToPostgres` sets one.
   * @default 'require': outside the namespace, the login crosses networks this tree does not control
   */
  readonly sslMode?: PostgresSslMode;
}

/**
 * A Postgres database this tree does not run: a managed cloud database, one
 * run by another team or operator, or one in another namespace. It renders
 * nothing; `GoWebService.connectToPostgres` takes it like {@link Postgres}:
 * the connection variables, the login by Secret reference, and an egress rule
 * to `network` on the database port.
 */
export class ExternalPostgres extends Construct implements IPostgresDatabase {
  public readonly host: string;
  public readonly port: number;
  public readonly databaseName: string;
  public readonly login: PostgresLogin;
  public readonly networkPeer: NetworkPeer;
  public readonly sslMode: PostgresSslMode;

  constructor(scope: Construct, id: string, props: ExternalPostgresProps) {
    super(scope, id);
    if (!HOST.test(props.host)) {
      ValidationError.fail(this, `host "${props.host}" is not a host name or IPv4 address: use a DNS name such as "db.example.com", without scheme or port`);
    }
    this.host = props.host;
    this.port = checkPort(this, 'port', props.port ?? 5432);
    if (!DATABASE_NAME.test(props.database)) {
      ValidationError.fail(this, `database "${props.database}" is not a Postgres database name: use letters, digits, '_', '$' and '-', at most 63, not starting with a digit`);
    }
    this.databaseName = props.database;
    const credentials = props.credentials;
    if (credentials.source === CredentialsSource.DEV_PLAINTEXT) {
      ValidationError.fail(this, 'credentials are a plaintext password: reference a Secret (PostgresCredentials.fromExistingSecret()) '
        + 'or a sealed one (PostgresCredentials.fromSealedSecret()); an external database gets no plaintext Secret from this tree');
    }
    // A sealed login is emitted here, in the clients' namespace, where the controller opens it.
    const sealed = credentials.source === CredentialsSource.SEALED_SECRET
      ? new SealedSecret(this, 'SealedCredentials', { file: credentials.sealedFile!, requiredKeys: [credentials.usernameKey, credentials.passwordKey] })
      : undefined;
    this.login = {
      secretName: checkDnsLabel(this, 'credentials secretName', sealed?.name ?? credentials.secretName!),
      usernameKey: credentials.usernameKey,
      passwordKey: credentials.passwordKey,
      revision: sealed?.revision,
    };
    props.network.bind(this); // validated now, with this construct's path
    this.networkPeer = props.network;
    this.sslMode = props.sslMode ?? 'require';
  }

  /** The database's own NetworkPolicy is not part of this tree: nothing to admit. */
  public allowConnectionsFrom(_id: string, _client: NetworkPeer): void {}
}
