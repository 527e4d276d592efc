import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { toolModuleVersion } from './tools/cluster/cluster';

// test/tools/install.sh dispatches to one recipe per tool (test/tools/install/<tool>.sh); building
// the tools is proved by the end-to-end suites. These checks keep the dispatcher, the recipes and
// the image recipes that pack their binaries in step.

const TOOLS = path.join(__dirname, 'tools');
const dispatcher = fs.readFileSync(path.join(TOOLS, 'install.sh'), 'utf-8');
const list = (name: string) => /^\S+=\((.*)\)/m.exec(dispatcher.split('\n').find(l => l.startsWith(`${name}=(`)) ?? '')?.[1].split(' ') ?? [];
const recipe = (tool: string) => fs.readFileSync(path.join(TOOLS, 'install', `${tool}.sh`), 'utf-8');

test('every known tool is built, once, by a recipe that defines install_<tool>', () => {
  const order = list('ORDER');
  expect([...order].sort()).toEqual([...list('ALL_TOOLS'), ...list('OPT_TOOLS')].sort());
  expect(new Set(order).size).toBe(order.length);
  for (const tool of order) expect(recipe(tool)).toMatch(new RegExp(`^install_${tool.replace(/-/g, '_')}\\(\\) \\{`, 'm'));
});

test('every Go build of a recipe takes the shared flags (no DWARF compiled: cheaper cold builds)', () => {
  const recipes = fs.readdirSync(path.join(TOOLS, 'install')).map(f => fs.readFileSync(path.join(TOOLS, 'install', f), 'utf-8')).join('\n');
  expect(recipes).toMatch(/^GO_BUILD_FLAGS=\(-trimpath -gcflags=all=-dwarf=false\)$/m);
  // The commands, not the progress lines that name them (`echo "... go install $pkg@$version"`).
  const builds = recipes.split('\n').filter(l => !l.trim().startsWith('#') && /(\bgo|module_go "\$mod") (build|install) [-"]/.test(l));
  expect(builds.length).toBeGreaterThanOrEqual(5);
  for (const line of builds) expect(line).toContain('"${GO_BUILD_FLAGS[@]}"');
});

test('each image recipe packs the version of the tool install.sh builds', () => {
  const images = path.join(TOOLS, 'images');
  const texts = fs.readdirSync(images).filter(d => fs.existsSync(path.join(images, d, 'recipe.sh')))
    .map(d => fs.readFileSync(path.join(images, d, 'recipe.sh'), 'utf-8'));
  // A version pinned by a recipe of install.sh, or by a wrapper module that builds tools (test/tools/kube
  // for those made of Kubernetes' libraries, test/tools/cnpg for CloudNativePG's).
  const pins = texts.map(t => /^\w+_IMAGE_VERSION=(\S+)\s+# keep in step with (\w+) in test\/tools\/install\.sh/m.exec(t))
    .filter((m): m is RegExpExecArray => m !== null);
  const modulePins = texts.map(t => /^\w+_IMAGE_VERSION=(\S+)\s+# keep in step with (\S+) in test\/tools\/(\w+)\/go\.mod/m.exec(t))
    .filter((m): m is RegExpExecArray => m !== null);
  expect(pins.length).toBeGreaterThanOrEqual(3);
  expect(modulePins.map(([, , , wrapper]) => wrapper).sort()).toEqual(['cnpg', 'cnpg', 'kube']);
  const recipes = fs.readdirSync(path.join(TOOLS, 'install')).map(f => fs.readFileSync(path.join(TOOLS, 'install', f), 'utf-8')).join('\n');
  for (const [, version, variable] of pins) expect(`${variable}=${new RegExp(`^${variable}=(\\S+)$`, 'm').exec(recipes)?.[1]}`).toBe(`${variable}=${version}`);
  for (const [, version, module, wrapper] of modulePins) expect(`${module} ${toolModuleVersion(module, wrapper)}`).toBe(`${module} ${version}`);
});

test('a tools module that does not pin a tool stops install.sh with an error naming the go.mod and the module', () => {
  // install.sh, its recipes and the wrapper modules' go.mod copied, the kube module's without kwok's pin.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-copy-'));
  try {
    fs.copyFileSync(path.join(TOOLS, 'install.sh'), path.join(copy, 'install.sh'));
    fs.cpSync(path.join(TOOLS, 'install'), path.join(copy, 'install'), { recursive: true });
    for (const wrapper of ['kube', 'netpol', 'cnpg']) fs.mkdirSync(path.join(copy, wrapper));
    for (const wrapper of ['netpol', 'cnpg']) fs.copyFileSync(path.join(TOOLS, wrapper, 'go.mod'), path.join(copy, wrapper, 'go.mod'));
    const goMod = fs.readFileSync(path.join(TOOLS, 'kube', 'go.mod'), 'utf-8');
    expect(goMod).toMatch(/^\tsigs\.k8s\.io\/kwok v/m);
    fs.writeFileSync(path.join(copy, 'kube', 'go.mod'), goMod.replace(/^\tsigs\.k8s\.io\/kwok v\S+\n/m, ''));
    const r = spawnSync('bash', [path.join(copy, 'install.sh'), 'crane'], { encoding: 'utf-8', env: { ...process.env, TODO_GITOPS_TOOLS_CACHE: path.join(copy, 'cache') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`install.sh: ${path.join(copy, 'kube', 'go.mod')} requires no sigs.k8s.io/kwok`);
    expect(r.stdout).toBe('');
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

describe('the lock is per tool', () => {
  // A cache where ko and crane are built already (their binaries and stamps), so install.sh only
  // takes each tool's lock and prints the PATH line.
  const version = (tool: string) => new RegExp(`^${tool.toUpperCase()}_VERSION=(\\S+)$`, 'm').exec(recipe(tool))![1];
  let cache: string;
  let holder: ChildProcess | undefined;
  beforeEach(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-cache-'));
    for (const tool of ['ko', 'crane']) {
      const dir = path.join(cache, `${tool}-${version(tool)}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, tool), '#!/bin/sh\n', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, `.${tool}.ok`), '');
    }
  });
  afterEach(() => {
    holder?.kill('SIGKILL');
    fs.rmSync(cache, { recursive: true, force: true });
  });
  const install = (tool: string) => spawnSync('bash', [path.join(TOOLS, 'install.sh'), tool], {
    env: { ...process.env, TODO_GITOPS_TOOLS_CACHE: cache }, encoding: 'utf-8', timeout: 3000,
  });
  /** Holds `.lock-<tool>` as a build of it would, until killed; resolves once it is held. */
  const hold = async (tool: string) => {
    holder = spawn('flock', [path.join(cache, `.lock-${tool}`), 'sleep', '60'], { stdio: 'ignore' });
    for (let i = 0; i < 50 && spawnSync('flock', ['-n', path.join(cache, `.lock-${tool}`), 'true']).status === 0; i++) {
      await new Promise(r => setTimeout(r, 20));
    }
  };

  test('a run needing only built tools goes on while another tool is being built', async () => {
    await hold('ko');
    const crane = install('crane');
    expect(crane.status).toBe(0);
    expect(crane.stdout).toContain(`${cache}/crane-${version('crane')}`);
  });

  test('a run needing the tool being built waits for it, and says so', async () => {
    await hold('ko');
    const ko = install('ko');
    expect(ko.error?.message).toMatch(/ETIMEDOUT/);
    expect(ko.stderr).toContain(`waiting for another install.sh building ko (${cache}/.lock-ko)`);
  });
});
