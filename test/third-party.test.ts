import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const THIRD_PARTY = path.join(ROOT, 'third_party');

describe('vendored files', () => {
  const sums = fs.readFileSync(path.join(THIRD_PARTY, 'SHA256SUMS'), 'utf-8').trim().split('\n').map(line => {
    const [hash, file] = line.split(/\s+/);
    return { hash, file: path.normalize(file) };
  });

  test.each(sums.map(s => [s.file, s.hash]))('%s is the recorded copy', (file, hash) => {
    expect(createHash('sha256').update(fs.readFileSync(path.join(THIRD_PARTY, file))).digest('hex')).toBe(hash);
  });

  test('every vendored file is recorded', () => {
    const files = execFileSync('git', ['ls-files', 'third_party'], { cwd: ROOT, encoding: 'utf-8' }).trim().split('\n')
      .map(f => path.relative('third_party', f)).filter(f => !['README.md', 'SHA256SUMS'].includes(f)).sort();
    expect(sums.map(s => s.file).sort()).toEqual(files);
  });

  test.each([
    ['CloudNativePG', path.join('cloudnative-pg-v1.30.0', 'cnpg-1.30.0')],
    ['Barman Cloud plugin', path.join('plugin-barman-cloud-v0.14.0', 'manifest')],
    ['SealedSecret CRD', path.join('sealed-secrets-v0.27.1', 'bitnami.com_sealedsecrets')],
  ])('the %s manifest as JSON (what the construct reads) equals its vendored YAML', (_name, file) => {
    const base = path.join(THIRD_PARTY, file);
    const fromYaml = YAML.parseAllDocuments(fs.readFileSync(`${base}.yaml`, 'utf-8'), { version: '1.1' }).map(d => d.toJSON()).filter(d => d);
    // If this fails after an update, regenerate the JSON with the command in third_party/README.md.
    expect(JSON.parse(fs.readFileSync(`${base}.json`, 'utf-8'))).toEqual(fromYaml);
  });

  test('no code, script or config reads the shared directory beside the clone (a fresh clone has none), but for the kaniko and Tanka sources', () => {
    const files = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.sh', '*.json', '*.yaml', '*.yml', 'Dockerfile', '.projenrc.ts'], { cwd: ROOT, encoding: 'utf-8' })
      .trim().split('\n').filter(f => !f.startsWith('third_party/') && f !== path.relative(ROOT, __filename));
    expect(files.length).toBeGreaterThan(50);
    // The kaniko and Tanka source tarballs are too large to vendor: the tests that build kaniko and tk may read them
    // (KANIKO_SOURCE_TARBALL and TANKA_SOURCE_TARBALL override).
    const readers = files.filter(f => /\.\.\/shared\b(?!\/(kaniko\/kaniko|tanka\/tanka)-)|['"]shared['"]/.test(fs.readFileSync(path.join(ROOT, f), 'utf-8')));
    expect(readers).toEqual([]);
  });
});
