import { k8s } from '../common/k8s';

/** A key of an existing Secret. */
export interface SecretKeyRef {
  /** Secret name. */
  readonly secretName: string;
  /** Key inside the Secret. */
  readonly key: string;
  /**
   * Changes when the Secret's values change (a sealed Secret's revision):
   * the pods are annotated with it, so they roll and read the new values.
   * @default - the pods do not roll when the Secret changes
   */
  readonly revision?: string;
}

/** The value of an environment variable: a literal, or a Secret's key read when the pod starts. */
export class EnvValue {
  /** A literal value, written into the manifest: never a secret. */
  public static fromValue(value: string): EnvValue {
    return new EnvValue({ value });
  }

  /** The value of `ref`'s key, read by the kubelet when the pod starts; the manifest holds only the reference. */
  public static fromSecretKey(ref: SecretKeyRef): EnvValue {
    return new EnvValue({ valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } } }, ref.revision);
  }

  private constructor(
    private readonly source: Omit<k8s.EnvVar, 'name'>,
    /**
     * The revision of the Secret read, when it has one: the pods roll when it changes.
     * @internal
     */
    public readonly secretRevision?: string,
  ) {}

  /**
   * The variable `name` as a container's `env` entry.
   * @internal
   */
  public render(name: string): k8s.EnvVar {
    return { name, ...this.source };
  }
}
