import { IConstruct } from 'constructs';

/**
 * A bad input found at synth time.
 *
 * The message always starts with the path of the construct that received the
 * input, so a platform engineer can find the offending line in a large app.
 */
export class ValidationError extends Error {
  /**
   * Throws a {@link ValidationError} for `scope`.
   * @param scope the construct whose props are wrong
   * @param message what is wrong and how to fix it
   */
  public static fail(scope: IConstruct, message: string): never {
    throw new ValidationError(scope.node.path, message);
  }

  /** Path of the construct that received the bad input. */
  public readonly constructPath: string;

  constructor(constructPath: string, message: string) {
    super(`${constructPath}: ${message}`);
    this.name = 'ValidationError';
    this.constructPath = constructPath;
  }
}
