// Synth speed and peak memory beside the anchor users compare with (`helm template`), as medians
// over fresh processes. Run with `npm run bench`; the README quotes its tables. helm comes from
// PATH (`eval "$(bash test/tools/install.sh helm)"`); without it the helm rows are left out.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { measureViewPage, viewPageTable } from './view-page';

interface Sample { loadMs: number; synthMs: number; maxRssMiB: number }

const ROOT = path.resolve(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const SCENARIOS: Array<[string, string, number]> = [
  ['floor: cdk8s + k8s types loaded, one object', 'floor', 1],
  ['todo demo: 3 environments + Argo CD + Helm chart', 'demo', 0],
  ['10 service + database pairs', 'services', 10],
  ['100 service + database pairs', 'services', 100],
  ['1,000 service + database pairs', 'services', 1000],
  // After the pairs: it synthesizes what their first run wrote.
  ['cdk8s alone: the 12,000 objects of the 1,000 pairs as plain `ApiObject`s, not written', 'cdk8s-alone', 1000],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => ms.toFixed(0);
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
/** Where a scenario's run writes. */
const outdir = (scenario: string, count: number, run: number) => path.join(tmp, `${scenario}-${count}-${run}`);

/** Wall time of a whole command, in milliseconds. */
function wall(command: string, args: string[], env: NodeJS.ProcessEnv, okStatus: number[], cwd: string): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf-8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!okStatus.includes(run.status ?? -1)) throw new Error(`${command} ${args.join(' ')} failed:\n${run.stderr}`);
  return ms;
}

interface Command { label: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; okStatus?: number[]; cwd?: string }

/**
 * Median wall times of RUNS runs of each command, after one warm-up run of each (file cache, compiled
 * lib/). The runs are interleaved (run 1 of every command, then run 2, ...), so a drift in the VM's
 * speed during the bench reaches every command alike and the ratios between them stay fair.
 */
function medianWalls(commands: Command[]): number[] {
  const runOnce = (c: Command) => wall(c.command, c.args, c.env ?? process.env, c.okStatus ?? [0], c.cwd ?? ROOT);
  commands.forEach(c => {
    progress(`${c.label}: warm-up`);
    runOnce(c);
  });
  const times = commands.map(() => [] as number[]);
  for (let run = 1; run <= RUNS; run++) {
    progress(`whole commands: run ${run}/${RUNS}`);
    commands.forEach((c, i) => times[i].push(runOnce(c)));
  }
  return times.map(median);
}

/**
 * The objects the first run of the `count` pairs wrote, as one JSON array in a file (made once): the
 * cdk8s-alone scenario's input, read with JSON.parse, which costs it little time and memory.
 */
function pairsObjects(count: number): string {
  const file = path.join(tmp, `pairs-${count}.json`);
  if (!fs.existsSync(file)) {
    const yaml = fs.readFileSync(path.join(outdir('services', count, 1), 'prod', 'bench-prod.k8s.yaml'), 'utf-8');
    fs.writeFileSync(file, JSON.stringify(parseAllDocuments(yaml).map(d => d.toJSON())));
  }
  return file;
}

/** The first commit that has `file`. */
function firstCommitOf(file: string): string {
  return execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', file], { cwd: ROOT, encoding: 'utf-8' }).trim().split('\n').pop()!;
}

/** Compiles scenario.ts next to lib/src, so the scenarios run JavaScript as users do. */
function compileScenario(): string {
  const source = fs.readFileSync(path.join(__dirname, 'scenario.ts'), 'utf-8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText;
  const file = path.join(ROOT, 'lib', 'test', 'bench', 'scenario.js');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, js);
  return file;
}

try {
  progress('compiling lib/ when stale');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'run-compiled.js'), '--compile'], { stdio: 'inherit' });
  const scenarioJs = compileScenario();

  // Interleaved like the whole commands (run 1 of every scenario, then run 2, ...), so the anchor and
  // the pairs it is compared with see the same VM.
  const samples: Sample[][] = SCENARIOS.map(() => []);
  for (let run = 1; run <= RUNS; run++) {
    SCENARIOS.forEach(([label, scenario, count], i) => {
      progress(`${label}: run ${run}/${RUNS}`);
      const input = scenario === 'cdk8s-alone' ? [pairsObjects(count)] : [];
      const out = execFileSync(process.execPath, [scenarioJs, scenario, String(count), outdir(scenario, count, run), ...input], { encoding: 'utf-8' });
      samples[i].push(JSON.parse(out.trim().split('\n').pop()!));
    });
  }
  const synthMs = samples.map(s => median(s.map(x => x.synthMs)));
  const synthRows = SCENARIOS.map(([label], i) =>
    `| ${label} | ${fmt(synthMs[i])} | ${fmt(median(samples[i].map(s => s.loadMs)))} | ${fmt(median(samples[i].map(s => s.maxRssMiB)))} |`);
  const pairsVsAnchor = synthMs[SCENARIOS.findIndex(([, s, n]) => s === 'services' && n === 1000)] / synthMs[SCENARIOS.findIndex(([, s]) => s === 'cdk8s-alone')];

  const redirect = { ...process.env, CDK8S_OUTDIR: path.join(tmp, 'npm-dist'), HELM_OUTDIR: path.join(tmp, 'npm-helm'), TANKA_OUTDIR: path.join(tmp, 'npm-tanka') };
  const cdk8sCli = (env: NodeJS.ProcessEnv, name: string) => ({ ...redirect, ...env, HELM_OUTDIR: path.join(tmp, `${name}-helm`), TANKA_OUTDIR: path.join(tmp, `${name}-tanka`) });
  const helmChart = path.join(ROOT, 'helm', 'todo');
  const hasHelm = spawnSync('helm', ['version', '--short']).status === 0;
  if (!hasHelm) progress('helm not on PATH (eval "$(bash test/tools/install.sh helm)"): leaving out helm template');
  // An empty package whose one script starts Node and exits: what any `npm run` of a Node program costs.
  const npmFloor = path.join(tmp, 'npm-floor');
  fs.mkdirSync(npmFloor);
  fs.writeFileSync(path.join(npmFloor, 'package.json'), JSON.stringify({ name: 'npm-floor', private: true, scripts: { node: 'node -e 0' } }));
  const commands: Command[] = [
    { label: '`npm run synth` (dist/, helm/todo/ and tanka/)', command: 'npm', args: ['run', '--silent', 'synth'], env: redirect },
    // The same CLI without npm in front: what `npm run` itself costs is the difference.
    {
      label: 'the CLI\'s `synth` without npm (`node scripts/run-compiled.js todo/cli.ts synth`)',
      command: process.execPath,
      args: [path.join(ROOT, 'scripts', 'run-compiled.js'), 'todo/cli.ts', 'synth'],
      env: redirect,
    },
    { label: 'floor: `npm run` of a script that only starts Node (`node -e 0`), in an empty package', command: 'npm', args: ['run', '--silent', 'node'], cwd: npmFloor },
    { label: '`npx cdk8s synth`', command: 'npx', args: ['cdk8s', 'synth', '--output', path.join(tmp, 'cli-dist')], env: cdk8sCli({}, 'cli') },
    // The cdk8s CLI asks the registry for its latest version before every command and caches a
    // successful answer for 30 minutes (~/.cdk8s-cli.version); where the answer fails (this machine's
    // registry mirror has no /cdk8s-cli/latest) every run pays the request. This row is the run
    // without it, as on a machine whose cached answer is fresh.
    {
      label: '`npx cdk8s synth` without its upgrade check (`CDK8S_CHECK_UPGRADE=false`)',
      command: 'npx',
      args: ['cdk8s', 'synth', '--output', path.join(tmp, 'cli-nocheck-dist')],
      env: cdk8sCli({ CDK8S_CHECK_UPGRADE: 'false' }, 'cli-nocheck'),
    },
    {
      label: 'floor: `npx cdk8s --version` (the cdk8s CLI starting, without its upgrade check, running no app)',
      command: 'npx',
      args: ['cdk8s', '--version'],
      env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
    },
    // Against the first commit that has this tree, so there is something to compare; exit 1 means "changes".
    { label: '`npm run diff` (the demo against its first commit)', command: 'npm', args: ['run', '--silent', 'diff', '--', '--base', firstCommitOf('dist/apps')], okStatus: [0, 1, 2] },
    ...(hasHelm ? ENVIRONMENTS.map(env => ({
      label: `\`helm template\` of helm/todo, ${env}`, command: 'helm', args: ['template', 'todo', helmChart, '-f', path.join(helmChart, `values-${env}.yaml`)],
    })) : []),
  ];
  const walls = medianWalls(commands);
  const commandRows: Array<[string, number]> = commands.map((c, i) => [c.label, walls[i]]);
  let helmTotal: number | undefined;
  if (hasHelm) {
    helmTotal = walls.slice(-ENVIRONMENTS.length).reduce((a, b) => a + b, 0);
    commandRows.push([`\`helm template\`, all ${ENVIRONMENTS.length} environments together`, helmTotal]);
  }

  console.log(`Medians of ${RUNS} runs, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model.trim()})\n`);
  console.log('| whole command | wall (ms) |');
  console.log('| --- | ---: |');
  for (const [label, ms] of commandRows) console.log(`| ${label} | ${fmt(ms)} |`);
  if (helmTotal !== undefined) {
    const ratio = (i: number) => (walls[i] / helmTotal!).toFixed(2);
    console.log(`\n\`npm run synth\` / the three \`helm template\` runs: ${ratio(0)}x; the CLI's synth without npm: ${ratio(1)}x; npm's floor: ${ratio(2)}x`);
  }
  console.log('\n| scenario, in one fresh process | build + synth + write (ms) | module load (ms) | peak RSS (MiB) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of synthRows) console.log(row);
  console.log(`\n1,000 pairs / cdk8s alone with their objects: ${pairsVsAnchor.toFixed(2)}x`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

// The static page of `npm run view`: its size and load time in headless Chromium (test/bench/view-page.ts).
measureViewPage(RUNS, progress).then(f => console.log(`\n${viewPageTable(f)}`), e => {
  progress(`view page: ${(e as Error).message}`);
  process.exitCode = 1;
});
