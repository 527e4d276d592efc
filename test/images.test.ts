import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { ContainerImage, ImageLock, ValidationError } from '../src';
import { digestOf, testLock } from './support/fixtures';

describe('ContainerImage', () => {
  const scope = () => Testing.chart();

  test('a digest image renders repository@digest', () => {
    const digest = digestOf('x');
    expect(ContainerImage.fromDigest('ghcr.io/acme/todo', digest).resolve(scope(), { allowUnpinned: false }))
      .toBe(`ghcr.io/acme/todo@${digest}`);
  });

  test('a locked image renders the digest recorded in the lock', () => {
    const lock = testLock();
    expect(ContainerImage.fromLock(lock, 'todo').resolve(scope(), { allowUnpinned: false }))
      .toBe(`${lock.tryGet('todo')!.repository}@${lock.tryGet('todo')!.digest}`);
  });

  test('a tag is refused unless unpinned images are allowed', () => {
    const image = ContainerImage.fromTag('ghcr.io/acme/todo', 'dev');
    expect(image.resolve(scope(), { allowUnpinned: true })).toBe('ghcr.io/acme/todo:dev');
    expect(() => image.resolve(scope(), { allowUnpinned: false })).toThrow(/referenced by tag.*requires images pinned by digest/);
  });

  test('a lock entry wins over the dev fallback tag', () => {
    const lock = testLock();
    const ref = ContainerImage.fromLock(lock, 'todo', { fallbackRepository: 'ghcr.io/acme/todo', fallbackTag: 'dev' })
      .resolve(scope(), { allowUnpinned: true });
    expect(ref).toContain('@sha256:');
  });

  test('a missing lock entry falls back to the tag only when allowed', () => {
    const lock = testLock();
    const image = ContainerImage.fromLock(lock, 'other', { fallbackRepository: 'ghcr.io/acme/other', fallbackTag: 'dev' });
    expect(image.resolve(scope(), { allowUnpinned: true })).toBe('ghcr.io/acme/other:dev');
    expect(() => image.resolve(scope(), { allowUnpinned: false })).toThrow(/image "other" has no entry in inline image lock/);
  });

  test('errors are ValidationErrors carrying the construct path', () => {
    const chart = Testing.chart();
    try {
      ContainerImage.fromDigest('acme/Todo', digestOf('x')).resolve(chart, { allowUnpinned: false });
      throw new Error('resolve did not throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).constructPath).toBe(chart.node.path);
      expect((e as Error).message).toContain('"acme/Todo"');
    }
  });

  // The README promises errors naming the construct and the image: the image as it was written.
  // (A lock entry is validated when the lock is read, so a locked image never gets this far.)
  test.each([
    ['a digest image', () => ContainerImage.fromDigest('ghcr.io/acme/todo', 'sha256:1234'), 'test: image ghcr.io/acme/todo@sha256:1234: "sha256:1234" is not a valid image digest'],
    ['a tag image', () => ContainerImage.fromTag('ghcr.io/acme/todo', '-dev'), 'test: image ghcr.io/acme/todo:-dev: "-dev" is not a valid image tag'],
  ])('an error about %s names the image as it was specified', (_what, image, message) => {
    expect(() => image().resolve(scope(), { allowUnpinned: true })).toThrow(message);
  });

  test('a repository is at most 255 characters', () => {
    // The distribution spec's limit; the grammar alone would accept any length.
    const name = (length: number) => `ghcr.io/${'a'.repeat(length - 'ghcr.io/'.length)}`;
    expect(ContainerImage.fromDigest(name(255), digestOf('x')).resolve(scope(), { allowUnpinned: false })).toBe(`${name(255)}@${digestOf('x')}`);
    expect(() => ContainerImage.fromDigest(name(256), digestOf('x')).resolve(scope(), { allowUnpinned: false }))
      .toThrow(/is not a valid image repository/);
  });

  test('the fallback tag defaults to latest', () => {
    const image = ContainerImage.fromLock(testLock(), 'other', { fallbackRepository: 'ghcr.io/acme/other' });
    expect(image.resolve(scope(), { allowUnpinned: true })).toBe('ghcr.io/acme/other:latest');
  });
});

describe('ImageLock', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('write then read round-trips, deterministically and atomically', () => {
    const file = path.join(dir, 'images.lock.json');
    const doc = testLock().contents;
    ImageLock.write(file, doc);
    const first = fs.readFileSync(file, 'utf-8');
    ImageLock.write(file, { version: 1, images: Object.fromEntries(Object.entries(doc.images).reverse()) });
    expect(fs.readFileSync(file, 'utf-8')).toBe(first);
    expect(ImageLock.fromFile(file).contents).toEqual(doc);
    expect(fs.readdirSync(dir)).toEqual(['images.lock.json']);
  });

  test('a bad document is refused and leaves the file as it was', () => {
    const file = path.join(dir, 'images.lock.json');
    ImageLock.write(file, testLock().contents);
    const before = fs.readFileSync(file, 'utf-8');
    expect(() => ImageLock.write(file, { version: 1, images: { todo: { repository: 'r', digest: 'sha256:short', builder: 'ko' } } }))
      .toThrow(/images.todo: "sha256:short" is not a valid image digest/);
    expect(fs.readFileSync(file, 'utf-8')).toBe(before);
    expect(fs.readdirSync(dir)).toEqual(['images.lock.json']);
  });

  test('the committed lock is valid and pins every image the app uses', () => {
    const lock = ImageLock.fromFile(path.join(__dirname, '..', 'images.lock.json'));
    for (const name of ['todo', 'postgres', 'postgres-exporter']) {
      expect(lock.tryGet(name)?.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    }
  });
});
