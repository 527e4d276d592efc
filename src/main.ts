import { ENVIRONMENTS } from './app/environments';
import { synthesizeAll } from './app/synth';
import { DEFAULT_IMAGE_LOCK_FILE, ImageLock } from './index';

// `cdk8s synth` passes its output directory in CDK8S_OUTDIR; the image build may point at another lock.
const outdir = process.env.CDK8S_OUTDIR ?? 'dist';
const lockFile = process.env.IMAGES_LOCK_FILE ?? DEFAULT_IMAGE_LOCK_FILE;
// The Helm chart lives outside dist/ so no Argo CD directory app reads it.
const helmDir = process.env.HELM_OUTDIR ?? 'helm/todo';

try {
  synthesizeAll({ outdir, helmDir, environments: ENVIRONMENTS, lock: ImageLock.fromFile(lockFile), log: line => console.error(line) });
} catch (e) {
  console.error(`synth failed, ${outdir} and ${helmDir} left as they were:\n  ${(e as Error).message}`);
  process.exit(1);
}
