import { FakeRegistry } from './fakes';
import { checkManifestOverHttp, pingRegistry } from '../../src/image-build/registry';
import { digestOf } from '../support/fixtures';

const DIGEST = digestOf('pushed');
let registry: FakeRegistry;

beforeAll(async () => { registry = await FakeRegistry.start(); });
afterAll(() => registry.stop());
beforeEach(() => {
  registry.token = undefined;
  registry.manifests.clear();
  registry.manifests.add(`${registry.host}/acme/todo@${DIGEST}`);
});

test('a present manifest passes, an absent one names the URL and 404', async () => {
  await expect(checkManifestOverHttp(`${registry.host}/acme/todo`, DIGEST, true)).resolves.toBeUndefined();
  await expect(checkManifestOverHttp(`${registry.host}/acme/todo`, digestOf('other'), true))
    .rejects.toThrow(`is not in the registry (HEAD http://${registry.host}/v2/acme/todo/manifests/${digestOf('other')} answered 404)`);
});

test('follows an anonymous Bearer token challenge', async () => {
  registry.token = 'tok-123';
  await expect(checkManifestOverHttp(`${registry.host}/acme/todo`, DIGEST, true)).resolves.toBeUndefined();
  expect(registry.requests.some(r => r.startsWith('GET /token?service=fake&scope=repository%3Aacme%2Ftodo%3Apull'))).toBe(true);
});

test('a registry that wants credentials is reported as such', async () => {
  registry.token = 'refuse';
  await expect(checkManifestOverHttp(`${registry.host}/acme/todo`, DIGEST, true))
    .rejects.toThrow(/the registry needs credentials to read .* answered 401\); put crane on PATH/);
});

test('TLS towards a plain-HTTP registry fails with the cause', async () => {
  await expect(pingRegistry(`${registry.host}/acme/todo`, false)).rejects.toThrow(`cannot reach registry at https://${registry.host}`);
});
