import { createHash } from 'crypto';
import { ContainerImage, ImageLock, PostgresCredentials } from '../../src';

/** A syntactically valid digest derived from `seed`, distinct per seed. */
export function digestOf(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/** A lock with the three images the todo stack uses. */
export function testLock(): ImageLock {
  return ImageLock.fromDocument({
    version: 1,
    images: {
      'todo': { repository: 'registry.test/acme/todo', digest: digestOf('todo'), builder: 'ko', sourceCommit: 'a1b2c3d' },
      'postgres': { repository: 'docker.io/library/postgres', tag: '16.4-alpine', digest: digestOf('postgres'), builder: 'upstream' },
      'postgres-exporter': { repository: 'docker.io/prometheuscommunity/postgres-exporter', digest: digestOf('exporter'), builder: 'upstream' },
    },
  });
}

export const APP_IMAGE = ContainerImage.fromDigest('registry.test/acme/todo', digestOf('todo'));
export const PG_IMAGE = ContainerImage.fromDigest('docker.io/library/postgres', digestOf('postgres'));
export const EXISTING_SECRET = PostgresCredentials.fromExistingSecret('db-login');
