// One benchmark run in a fresh process, so peak memory belongs to this scenario alone.
// Usage: scenario.ts <demo|floor|services> <count> <outdir>; prints one JSON line.
const started = process.hrtime.bigint();
/* eslint-disable import/order */
import * as path from 'path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ContainerImage, GoWebService, ImageLock, Postgres, PostgresCredentials } from '../../src';
import { ENVIRONMENTS } from '../../src/app/environments';
import { synthesizeAll } from '../../src/app/synth';
import { digestOf } from '../support/fixtures';

const [scenario, countArg, outdir] = process.argv.slice(2);
const count = Number(countArg);
const loaded = process.hrtime.bigint();

if (scenario === 'demo') {
  synthesizeAll({ outdir, environments: ENVIRONMENTS, lock: ImageLock.fromFile(path.join(__dirname, '..', '..', 'images.lock.json')) });
} else if (scenario === 'floor') {
  // The floor: a bare cdk8s-plus Deployment in one chart.
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new Chart(app, 'floor');
  new kplus.Deployment(chart, 'web', { containers: [{ image: 'nginx@' + digestOf('nginx'), portNumber: 8080 }] });
  app.synth();
} else if (scenario === 'services') {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new Chart(app, 'generated', { namespace: 'bench', disableResourceNameHashes: true });
  const credentials = PostgresCredentials.fromExistingSecret('db-login');
  for (let i = 0; i < count; i++) {
    const db = new Postgres(chart, `svc-${i}-db`, { image: ContainerImage.fromDigest('docker.io/library/postgres', digestOf('pg')), credentials });
    new GoWebService(chart, `svc-${i}`, { image: ContainerImage.fromDigest('ghcr.io/acme/svc', digestOf(`svc-${i}`)) }).connectToPostgres(db);
  }
  app.synth();
} else {
  throw new Error(`unknown scenario ${scenario}`);
}

const done = process.hrtime.bigint();
console.log(JSON.stringify({
  loadMs: Number(loaded - started) / 1e6,
  synthMs: Number(done - loaded) / 1e6,
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
}));
