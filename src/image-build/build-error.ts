/**
 * A build that stopped at one of its steps.
 *
 * The message names the step and its cause first, because that is what a CI
 * log reader needs; the lock and the manifests are untouched when it is thrown.
 */
export class ImageBuildError extends Error {
  /** 1-based number of the step that failed. */
  public readonly step: number;
  /** Total number of steps of the build. */
  public readonly totalSteps: number;
  /** Short name of the step, e.g. `ko build`. */
  public readonly stepTitle: string;
  /** What went wrong in the step, without the step prefix. */
  public readonly detail: string;

  constructor(step: number, totalSteps: number, stepTitle: string, cause: string) {
    super(`image build failed at step ${step}/${totalSteps} (${stepTitle}): ${cause}`);
    this.name = 'ImageBuildError';
    this.step = step;
    this.totalSteps = totalSteps;
    this.stepTitle = stepTitle;
    this.detail = cause;
  }
}
