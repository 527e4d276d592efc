import * as fs from 'fs';
import * as path from 'path';

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

test('each image recipe packs the version of the tool install.sh builds', () => {
  const images = path.join(TOOLS, 'images');
  const pins = fs.readdirSync(images).filter(d => fs.existsSync(path.join(images, d, 'recipe.sh')))
    .map(d => /^\w+_IMAGE_VERSION=(\S+)\s+# keep in step with (\w+) in test\/tools\/install\.sh/m.exec(fs.readFileSync(path.join(images, d, 'recipe.sh'), 'utf-8')))
    .filter((m): m is RegExpExecArray => m !== null);
  expect(pins.length).toBeGreaterThanOrEqual(5);
  const recipes = fs.readdirSync(path.join(TOOLS, 'install')).map(f => fs.readFileSync(path.join(TOOLS, 'install', f), 'utf-8')).join('\n');
  for (const [, version, variable] of pins) expect(`${variable}=${new RegExp(`^${variable}=(\\S+)$`, 'm').exec(recipes)?.[1]}`).toBe(`${variable}=${version}`);
});
