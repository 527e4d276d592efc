import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { ImageLock } from '../src';
import { buildBilling } from './example/library-usage';
import { digestOf } from './support/fixtures';

const EXAMPLE = path.join(__dirname, 'example', 'library-usage.ts');

test('the README shows the library example verbatim', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf-8');
  expect(readme).toContain(fs.readFileSync(EXAMPLE, 'utf-8').trim());
});

test('the library example compiles and synthesizes a connected service', () => {
  const lock = ImageLock.fromDocument({
    version: 1,
    images: {
      'postgres': { repository: 'docker.io/library/postgres', digest: digestOf('pg'), builder: 'upstream' },
      'billing-api': { repository: 'ghcr.io/acme/billing-api', digest: digestOf('api'), builder: 'ko' },
    },
  });
  const objects = Testing.synth(buildBilling(Testing.app(), lock));
  const kinds = new Set(objects.map(o => o.kind));
  for (const kind of ['Deployment', 'StatefulSet', 'NetworkPolicy', 'CronJob', 'Application']) expect(kinds).toContain(kind);
  const deployment = objects.find(o => o.kind === 'Deployment');
  expect(deployment.spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/billing-api@${digestOf('api')}`);
  expect(deployment.spec.template.spec.containers[0].env.map((e: any) => e.name)).toContain('PGPASSWORD');
});
