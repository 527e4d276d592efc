// The static page of `npm run view`: its size, and how long headless Chromium (Debian's `chromium`,
// driven by playwright-core as in test/review/viewer.test.ts; CHROMIUM names another) takes to load it
// from disk and to draw it. Part of `npm run bench`; on its own: npx ts-node --transpile-only test/bench/view-page.ts
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(p => p !== undefined && fs.existsSync(p));

export interface ViewPageFigures {
  /** Bytes of the HTML file, and gzipped (as a server or an attachment would carry it). */
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Medians over fresh tabs, in ms: navigation to the load event, and to the graph drawn and usable. */
  readonly loadMs: number;
  readonly readyMs: number;
  readonly runs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Writes the page with `npm run view -- --out` (the working tree, diff against HEAD) and times it in Chromium. */
export async function measureViewPage(runs: number, progress: (line: string) => void): Promise<ViewPageFigures> {
  if (!CHROMIUM) throw new Error('no Chromium found: apt-get install chromium, or set CHROMIUM');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-view-'));
  try {
    const page = path.join(tmp, 'view.html');
    progress('npm run view -- --out <tmp>/view.html');
    execFileSync('npm', ['run', '--silent', 'view', '--', '--out', page], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const html = fs.readFileSync(page);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    const load: number[] = [];
    const ready: number[] = [];
    try {
      // One warm-up (Chromium's own start, the file in the page cache), then fresh contexts: nothing cached.
      for (let run = 0; run <= runs; run++) {
        progress(`view page in Chromium: ${run === 0 ? 'warm-up' : `run ${run}/${runs}`}`);
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const tab = await context.newPage();
        await tab.goto(`file://${page}`);
        await tab.waitForFunction(() => (globalThis as any).gitopsView !== undefined);
        const [loaded, drawn] = await tab.evaluate(() => {
          const nav = (globalThis as any).performance.getEntriesByType('navigation')[0];
          return [nav.loadEventEnd, (globalThis as any).performance.now()];
        });
        if (run > 0) {
          load.push(loaded);
          ready.push(drawn);
        }
        await context.close();
      }
    } finally {
      await browser.close();
    }
    return { bytes: html.length, gzipBytes: gzipSync(html).length, loadMs: median(load), readyMs: median(ready), runs };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The README's table of the figures. */
export function viewPageTable(f: ViewPageFigures): string {
  return [
    `| static page of \`npm run view\` (median of ${f.runs} fresh tabs, 1280x800) | value |`,
    '| --- | ---: |',
    `| size of gitops-view.html (bytes) | ${f.bytes.toLocaleString('en-US')} |`,
    `| the same, gzipped (bytes) | ${f.gzipBytes.toLocaleString('en-US')} |`,
    `| navigation to the load event (ms) | ${f.loadMs.toFixed(0)} |`,
    `| navigation to the graph drawn and usable (ms) | ${f.readyMs.toFixed(0)} |`,
  ].join('\n');
}

if (require.main === module) {
  measureViewPage(Number(process.env.BENCH_RUNS ?? 5), line => process.stderr.write(`[bench] ${line}\n`))
    .then(f => console.log(viewPageTable(f)), e => { console.error(e); process.exit(1); });
}
