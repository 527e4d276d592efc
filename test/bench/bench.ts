// Synth wall time and peak memory, as medians over several fresh processes.
// Run with `npm run bench`; the README quotes its table.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface Sample { loadMs: number; synthMs: number; maxRssMiB: number }

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SCENARIOS: Array<[string, string, number]> = [
  ['bare cdk8s-plus app (floor)', 'floor', 1],
  ['todo demo: 3 environments + Argo CD', 'demo', 0],
  ['10 generated services', 'services', 10],
  ['100 generated services', 'services', 100],
  ['1,000 generated services', 'services', 1000],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
const rows: string[] = [];
try {
  for (const [label, scenario, count] of SCENARIOS) {
    const samples: Sample[] = [];
    for (let run = 1; run <= RUNS; run++) {
      process.stderr.write(`[bench] ${label}: run ${run}/${RUNS}\n`);
      const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'scenario.ts'), scenario, String(count), path.join(tmp, `${scenario}-${count}-${run}`)], { encoding: 'utf-8' });
      samples.push(JSON.parse(out.trim().split('\n').pop()!));
    }
    rows.push(`| ${label} | ${median(samples.map(s => s.synthMs)).toFixed(0)} | ${median(samples.map(s => s.loadMs)).toFixed(0)} | ${median(samples.map(s => s.maxRssMiB)).toFixed(0)} |`);
  }
  rows.push(...helmTemplateRows());
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** `helm template` of the generated chart, beside synth; helm comes from PATH (test/tools/install.sh). */
function helmTemplateRows(): string[] {
  if (spawnSync('helm', ['version', '--short']).status !== 0) {
    process.stderr.write('[bench] helm not on PATH (eval "$(bash test/tools/install.sh helm)"): skipping helm template\n');
    return [];
  }
  const chart = path.join(__dirname, '..', '..', 'helm', 'todo');
  return ['dev', 'prod'].map(env => {
    const times: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      process.stderr.write(`[bench] helm template (${env}): run ${run}/${RUNS}\n`);
      const started = process.hrtime.bigint();
      execFileSync('helm', ['template', 'todo', chart, '-f', path.join(chart, `values-${env}.yaml`)], { stdio: 'ignore' });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return `| helm template of helm/todo (${env}), whole command | ${median(times).toFixed(0)} | - | - |`;
  });
}
console.log(`Median of ${RUNS} runs, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model.trim()})\n`);
console.log('| scenario | build + synth (ms) | module load (ms) | peak RSS (MiB) |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
