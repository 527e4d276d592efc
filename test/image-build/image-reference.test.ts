import { parseDigest, parseImageReference } from '../../src/image-build/image-reference';
import { digestOf } from '../support/fixtures';

const D = digestOf('x');

describe('parseDigest', () => {
  test('accepts one digest with or without a trailing newline', () => {
    expect(parseDigest(D, 'f')).toBe(D);
    expect(parseDigest(`${D}\n`, 'f')).toBe(D);
  });

  test.each([
    ['', /f is empty/],
    ['\n\n', /f is empty/],
    ['sha256:abc', /not a valid image digest/],
    [D.toUpperCase(), /not a valid image digest/],
    [`${D}\n${digestOf('y')}`, /2 lines, expected one/],
    [`repo@${D}`, /not a valid image digest/],
  ])('rejects %j', (text, error) => {
    expect(() => parseDigest(text, 'f')).toThrow(error);
  });
});

describe('parseImageReference', () => {
  test('repository with a registry port', () => {
    expect(parseImageReference(`127.0.0.1:5000/acme/todo@${D}\n`, 'refs')).toEqual({ repository: '127.0.0.1:5000/acme/todo', digest: D });
  });

  test('repository with a tag', () => {
    expect(parseImageReference(`ghcr.io/acme/todo:v1.2@${D}`, 'refs')).toEqual({ repository: 'ghcr.io/acme/todo', tag: 'v1.2', digest: D });
  });

  test('port and tag together', () => {
    expect(parseImageReference(`localhost:5000/todo:sha-abc@${D}`, 'refs')).toEqual({ repository: 'localhost:5000/todo', tag: 'sha-abc', digest: D });
  });

  test.each([
    ['', /refs is empty/],
    ['ghcr.io/acme/todo:latest', /has no @sha256/],
    ['ghcr.io/acme/todo@sha256:123', /not a valid image digest/],
    [`ghcr.io/Acme/todo@${D}`, /not a valid image repository/],
    [`ghcr.io/acme/todo:bad tag@${D}`, /not a valid image tag/],
    [`a/b@${D}\nc/d@${D}`, /2 lines/],
  ])('rejects %j', (text, error) => {
    expect(() => parseImageReference(text, 'refs')).toThrow(error);
  });
});
