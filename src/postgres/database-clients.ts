import { IConstruct } from 'constructs';
import { k8s } from '../common/k8s';
import { ingressFrom, NetworkPeer } from '../common/network';
import { ValidationError } from '../common/validation-error';

/**
 * The clients a database's NetworkPolicy admits to its port, one per id:
 * what `allowConnectionsFrom` of {@link Postgres} and {@link PostgresCluster} records.
 * @internal
 */
export class DatabaseClients {
  private readonly peers = new Map<string, k8s.NetworkPolicyPeer>();

  constructor(private readonly database: IConstruct) {}

  /** Admits `client` under `id`; an id given twice is refused, naming the database. */
  public admit(id: string, client: NetworkPeer): void {
    if (this.peers.has(id)) {
      ValidationError.fail(this.database, `client "${id}" is already allowed; connect each service once`);
    }
    this.peers.set(id, client.bind(this.database));
  }

  /** The ingress rule admitting every client to `port`; none without clients, as a rule without peers would admit everyone. */
  public ingressRules(port: number): k8s.NetworkPolicyIngressRule[] {
    return this.peers.size > 0 ? [ingressFrom([...this.peers.values()], port)] : [];
  }
}
