// One benchmark run in a fresh process, so load time and peak memory belong to this scenario alone.
// bench.ts compiles this file next to lib/src and runs the JavaScript: what users run.
// Usage: scenario.js <floor|demo|services> <count> <outdir>, or scenario.js cdk8s-alone <count> <outdir>
// <objects.json>; prints one JSON line.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const [scenario, countArg, outdir, objectsFile] = process.argv.slice(2);
const count = Number(countArg);
const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

// Each scenario requires only what it uses, timed, so the floor does not load this library.
/* eslint-disable @typescript-eslint/no-require-imports */
let loadNs = 0n;
/** Requires a module, counting the time as module loading rather than synth. */
function load<T>(importModule: () => T): T {
  const started = process.hrtime.bigint();
  const loaded = importModule();
  loadNs += process.hrtime.bigint() - started;
  return loaded;
}

const started = process.hrtime.bigint();
if (scenario === 'floor') {
  // The floor: cdk8s and the k8s types loaded, one ConfigMap synthesized by cdk8s itself.
  const { App, Chart } = load(() => require('cdk8s') as typeof import('cdk8s'));
  const { k8s } = load(() => require('cdk8s-plus-27') as typeof import('cdk8s-plus-27'));
  const app = new App({ outdir });
  new k8s.KubeConfigMap(new Chart(app, 'floor'), 'config', { data: { key: 'value' } });
  app.synth();
} else if (scenario === 'demo') {
  const { ImageLock } = load(() => require('../../src') as typeof import('../../src'));
  const { TODO_REPOSITORY } = load(() => require('../../todo/repository') as typeof import('../../todo/repository'));
  TODO_REPOSITORY.synth({ outdir, helmDir: `${outdir}-helm`, lock: ImageLock.fromFile(path.join(__dirname, '..', '..', '..', 'images.lock.json')) });
} else if (scenario === 'services') {
  // N service + database pairs, each connected, in one environment of a GitOps tree.
  const lib = load(() => require('../../src') as typeof import('../../src'));
  const credentials = lib.PostgresCredentials.fromExistingSecret('db-login');
  new lib.GitOpsRepository({
    name: 'bench',
    repoUrl: 'https://git.example/acme/bench.git',
    environments: [{ name: 'prod', namespace: 'bench', settings: undefined }],
    stack: chart => {
      for (let i = 0; i < count; i++) {
        const db = new lib.Postgres(chart, `svc-${i}-db`, { image: lib.ContainerImage.fromDigest('docker.io/library/postgres', digest('pg')), credentials });
        new lib.GoWebService(chart, `svc-${i}`, { image: lib.ContainerImage.fromDigest('ghcr.io/acme/svc', digest(`svc-${i}`)) }).connectToPostgres(db);
      }
    },
  }).synth({ outdir, lock: lib.ImageLock.fromDocument({ version: 1, images: {} }) });
} else if (scenario === 'cdk8s-alone') {
  // The anchor for the pairs: cdk8s itself synthesizing the objects a services run wrote (as one JSON
  // array), as untyped ApiObjects: its token resolution, sanitizing and metadata, without this
  // library's constructs, cdk8s-plus-27's generated conversions or the YAML writer. Reading them
  // counts as loading.
  const { App, Chart, ApiObject } = load(() => require('cdk8s') as typeof import('cdk8s'));
  const objects: any[] = load(() => JSON.parse(fs.readFileSync(objectsFile, 'utf-8')));
  const chart = new Chart(new App({ outdir }), 'objects', { disableResourceNameHashes: true });
  objects.forEach((object, i) => new ApiObject(chart, `object-${i}`, object));
  chart.toJson();
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
const total = process.hrtime.bigint() - started;

console.log(JSON.stringify({
  loadMs: Number(loadNs) / 1e6,
  synthMs: Number(total - loadNs) / 1e6,
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
}));
