#!/usr/bin/env node
// The API report: API.md lists every symbol the published typings export, so a reviewer sees each
// change to the library's surface (api-extractor's report of lib/src/index.d.ts, after a compile).
//
//   node scripts/api-report.js           rewrite API.md
//   node scripts/api-report.js --check   fail (exit 1) when API.md differs from the typings
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const REPORT = path.join(ROOT, 'API.md');
const check = process.argv.includes('--check');

const compiled = spawnSync(process.execPath, [path.join(__dirname, 'run-compiled.js'), '--compile'], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status || 1);

const { Extractor, ExtractorConfig } = require(require.resolve('@microsoft/api-extractor', { paths: [ROOT] }));
const config = ExtractorConfig.loadFileAndPrepare(path.join(ROOT, 'api-extractor.json'));
// A local build always writes the fresh report into reportFolder (.tmp/); API.md is compared here.
const result = Extractor.invoke(config, { localBuild: true, showVerboseMessages: false });
if (!result.succeeded) {
  process.stderr.write(`api-extractor failed with ${result.errorCount} errors and ${result.warningCount} warnings\n`);
  process.exit(1);
}
const fresh = fs.readFileSync(config.reportFilePath, 'utf-8');
const committed = fs.existsSync(REPORT) ? fs.readFileSync(REPORT, 'utf-8') : '';
if (!check) {
  fs.writeFileSync(REPORT, fresh);
  process.stderr.write(`API.md ${fresh === committed ? 'unchanged' : 'rewritten'}\n`);
} else if (fresh !== committed) {
  process.stderr.write('API.md differs from the public API of the compiled typings: review the change, then run `npm run api` and commit API.md\n');
  spawnSync('git', ['diff', '--no-index', '--', REPORT, config.reportFilePath], { stdio: 'inherit' });
  process.exit(1);
}
