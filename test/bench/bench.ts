// Synth speed and peak memory beside the anchor users compare with (`helm template`), as medians
// over fresh processes. Run with `npm run bench`; the README quotes its tables. helm comes from
// PATH (`eval "$(bash test/tools/install.sh helm)"`); without it the helm rows are left out.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
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
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => ms.toFixed(0);
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));

/** Wall time of a whole command, in milliseconds. */
function wall(command: string, args: string[], env: NodeJS.ProcessEnv, okStatus: number[]): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(command, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf-8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!okStatus.includes(run.status ?? -1)) throw new Error(`${command} ${args.join(' ')} failed:\n${run.stderr}`);
  return ms;
}

/** Median wall time of RUNS runs of a command, after one warm-up run (file cache, compiled lib/). */
function medianWall(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env, okStatus = [0]): number {
  progress(`${label}: warm-up`);
  wall(command, args, env, okStatus);
  const times: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    progress(`${label}: run ${run}/${RUNS}`);
    times.push(wall(command, args, env, okStatus));
  }
  return median(times);
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

  const synthRows: string[] = [];
  for (const [label, scenario, count] of SCENARIOS) {
    const samples: Sample[] = [];
    for (let run = 1; run <= RUNS; run++) {
      progress(`${label}: run ${run}/${RUNS}`);
      const out = execFileSync(process.execPath, [scenarioJs, scenario, String(count), path.join(tmp, `${scenario}-${count}-${run}`)], { encoding: 'utf-8' });
      samples.push(JSON.parse(out.trim().split('\n').pop()!));
    }
    synthRows.push(`| ${label} | ${fmt(median(samples.map(s => s.synthMs)))} | ${fmt(median(samples.map(s => s.loadMs)))} | ${fmt(median(samples.map(s => s.maxRssMiB)))} |`);
  }

  const redirect = { ...process.env, CDK8S_OUTDIR: path.join(tmp, 'npm-dist'), HELM_OUTDIR: path.join(tmp, 'npm-helm'), TANKA_OUTDIR: path.join(tmp, 'npm-tanka') };
  const commandRows: Array<[string, number]> = [
    ['`npm run synth` (dist/, helm/todo/ and tanka/)', medianWall('npm run synth', 'npm', ['run', '--silent', 'synth'], redirect)],
    // The same CLI without npm in front: what `npm run` itself costs is the difference.
    ['the CLI\'s `synth` without npm (`node scripts/run-compiled.js todo/cli.ts synth`)',
      medianWall('CLI synth', process.execPath, [path.join(ROOT, 'scripts', 'run-compiled.js'), 'todo/cli.ts', 'synth'], redirect)],
    ['`npx cdk8s synth`', medianWall('npx cdk8s synth', 'npx', ['cdk8s', 'synth', '--output', path.join(tmp, 'cli-dist')], { ...redirect, HELM_OUTDIR: path.join(tmp, 'cli-helm'), TANKA_OUTDIR: path.join(tmp, 'cli-tanka') })],
    // Against the first commit that has this tree, so there is something to compare; exit 1 means "changes".
    ['`npm run diff` (the demo against its first commit)', medianWall('npm run diff', 'npm', ['run', '--silent', 'diff', '--', '--base', firstCommitOf('dist/apps')], process.env, [0, 1, 2])],
  ];
  let helmTotal: number | undefined;
  if (spawnSync('helm', ['version', '--short']).status === 0) {
    const chart = path.join(ROOT, 'helm', 'todo');
    const perEnvironment = ENVIRONMENTS.map(env => medianWall(`helm template (${env})`, 'helm', ['template', 'todo', chart, '-f', path.join(chart, `values-${env}.yaml`)]));
    ENVIRONMENTS.forEach((env, i) => commandRows.push([`\`helm template\` of helm/todo, ${env}`, perEnvironment[i]]));
    helmTotal = perEnvironment.reduce((a, b) => a + b, 0);
    commandRows.push([`\`helm template\`, all ${ENVIRONMENTS.length} environments together`, helmTotal]);
  } else {
    progress('helm not on PATH (eval "$(bash test/tools/install.sh helm)"): leaving out helm template');
  }

  console.log(`Medians of ${RUNS} runs, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model.trim()})\n`);
  console.log('| whole command | wall (ms) |');
  console.log('| --- | ---: |');
  for (const [label, ms] of commandRows) console.log(`| ${label} | ${fmt(ms)} |`);
  if (helmTotal !== undefined) console.log(`\n\`npm run synth\` / the three \`helm template\` runs: ${(commandRows[0][1] / helmTotal).toFixed(2)}x; the CLI's synth without npm: ${(commandRows[1][1] / helmTotal).toFixed(2)}x`);
  console.log('\n| scenario, in one fresh process | build + synth + write (ms) | module load (ms) | peak RSS (MiB) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of synthRows) console.log(row);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

// The static page of `npm run view`: its size and load time in headless Chromium (test/bench/view-page.ts).
measureViewPage(RUNS, progress).then(f => console.log(`\n${viewPageTable(f)}`), e => {
  progress(`view page: ${(e as Error).message}`);
  process.exitCode = 1;
});
