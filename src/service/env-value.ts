import { k8s } from '../common/k8s';

/** A key of an existing Secret. */
export interface SecretKeyRef {
  /** Secret name. */
  readonly secretName: string;
  /** Key inside the Secret. */
  readonly key: string;
}

/** The value of an environment variable: a literal, or a Secret's key read when the pod starts. */
export class EnvValue {
  /** A literal value, written into the manifest: never a secret. */
  public static fromValue(value: string): EnvValue {
    return new EnvValue({ value });
  }

  /** The value of `ref`'s key, read by the kubelet when the pod starts; the manifest holds only the reference. */
  public static fromSecretKey(ref: SecretKeyRef): EnvValue {
    return new EnvValue({ valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } } });
  }

  private constructor(private readonly source: Omit<k8s.EnvVar, 'name'>) {}

  /**
   * The variable `name` as a container's `env` entry.
   * @internal
   */
  public render(name: string): k8s.EnvVar {
    return { name, ...this.source };
  }
}
