#!/usr/bin/env node
// Runs a TypeScript entry point (todo/cli.ts) as compiled JavaScript, so a synth costs about what loading
// cdk8s costs, not a type-check (type-checking belongs to compile and test).
//
// The entry runs from one esbuild bundle of its compiled module and everything it requires: one
// file parses faster than the ~150 small modules of cdk8s and its dependencies.
//
// Freshness: lib/ and the bundle are trusted only when their stamps match a hash of every input
// (the sources, tsconfig.json, package-lock.json and this script). Otherwise `tsc --build --force`
// (type-checking) runs first and the bundle is rebuilt; a compile error stops the
// run before the entry starts, so a stale or broken build never writes stale output.
//
//   node scripts/run-compiled.js todo/cli.ts [args...]   run (rebuilding first when stale)
//   node scripts/run-compiled.js --compile               only compile lib/, when stale
//   node scripts/run-compiled.js --stamp                 record lib/ as fresh (after `tsc --build`)
'use strict';
const { createHash } = require('crypto');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIB = path.join(ROOT, 'lib');
const LIB_STAMP = path.join(LIB, '.inputs.sha256');
const STAT_CACHE = path.join(LIB, '.inputs.stat');
const BUNDLES = path.join(LIB, 'bundle');
/** Everything tsconfig.json compiles, plus what decides how it compiles and bundles. */
const SOURCE_DIRS = ['src', 'imports', 'todo'];
const INPUT_FILES = ['tsconfig.json', 'package-lock.json', path.relative(ROOT, __filename)];

function listTypeScript(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listTypeScript(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * A hash of every input's path and content: unlike mtimes, it survives checkouts, copies and clock skew.
 * Reading the 1.8 MB of inputs costs 3-9 ms a run, so the hash is remembered (lib/.inputs.stat) with
 * each file's size, mtime, ctime and inode: while none of them changed, no content did either (ctime
 * cannot be set back by hand), and the remembered hash is used without reading the files.
 */
function inputsHash() {
  const files = [...SOURCE_DIRS.flatMap(d => listTypeScript(path.join(ROOT, d))), ...INPUT_FILES.map(f => path.join(ROOT, f))].sort();
  const stats = files.map(file => {
    const s = fs.statSync(file);
    return `${path.relative(ROOT, file)} ${s.size} ${s.mtimeMs} ${s.ctimeMs} ${s.ino}`;
  }).join('\n');
  const [rememberedStats, rememberedHash] = readStamp(STAT_CACHE).split('\0');
  if (rememberedHash && rememberedStats === stats) return rememberedHash;
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  const digest = hash.digest('hex');
  try {
    fs.mkdirSync(LIB, { recursive: true });
    fs.writeFileSync(`${STAT_CACHE}.${process.pid}.tmp`, `${stats}\0${digest}`);
    fs.renameSync(`${STAT_CACHE}.${process.pid}.tmp`, STAT_CACHE);
  } catch {
    // Only a cache: the next run hashes the contents again.
  }
  return digest;
}

function readStamp(file) {
  try {
    return fs.readFileSync(file, 'utf-8').trim();
  } catch {
    return '';
  }
}

function writeStamp(file, hash) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${hash}\n`);
}

/** A failed compile, reported already; the exit status to end with. */
class CompileFailed extends Error {
  constructor(status) {
    super('compile failed');
    this.status = status;
  }
}

function isAlive(pid) {
  if (!(pid > 0)) return true; // the holder has not written its pid yet
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Runs `build` holding lib/.build.lock, so that two runs at once (parallel tests, two terminals)
 * never write lib/ or a bundle together; a lock left by a dead process is taken over.
 */
function withBuildLock(build) {
  const lock = path.join(LIB, '.build.lock');
  fs.mkdirSync(LIB, { recursive: true });
  const deadline = Date.now() + 10 * 60 * 1000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (!isAlive(Number(readStamp(lock)))) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} has been held for 10 minutes by pid ${readStamp(lock)}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return build();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function compileIfStale(hash) {
  const stamped = readStamp(LIB_STAMP);
  if (stamped === hash) return;
  process.stderr.write(`[compile] ${stamped ? 'sources changed since the last compile' : 'lib/ is missing or its last compile failed'}: tsc --build (type-checks; a few seconds, once)\n`);
  // tsc emits even when it finds errors: unstamp first, so a failed compile is never taken for fresh.
  fs.rmSync(LIB_STAMP, { force: true });
  // tsc reports errors on stdout; they belong with the rest of the diagnostics, on stderr. --force:
  // the hash decided already, and tsc's own check compares mtimes, so it would skip a change whose
  // file carries an older mtime than lib/ (restored by `cp -p`, tar or rsync); the project is not
  // incremental, so a build compiles everything either way.
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '--build', '--force'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (tsc.status !== 0) {
    process.stderr.write('[compile] failed: fix the errors above. Nothing was run, so no output changed.\n');
    throw new CompileFailed(tsc.status || 1);
  }
  writeStamp(LIB_STAMP, hash);
}

/** The bundle of `entry` (e.g. todo/cli.ts), rebuilt when any input changed. */
function freshBundle(entry, hash) {
  const outfile = path.join(BUNDLES, `${entry.replace(/\.ts$/, '').replace(/\//g, '__')}.js`);
  const stamp = `${outfile}.sha256`;
  const fresh = () => readStamp(stamp) === hash && fs.existsSync(outfile);
  if (fresh()) return outfile;
  return withBuildLock(() => {
    if (fresh()) return outfile; // built by the run that held the lock
    compileIfStale(hash);
    const esbuild = require(require.resolve('esbuild', { paths: [ROOT] }));
    const built = esbuild.buildSync({
      entryPoints: [path.join(LIB, entry.replace(/\.ts$/, '.js'))],
      outfile,
      bundle: true,
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      // Read only when Node runs with --enable-source-maps, so it costs nothing otherwise.
      sourcemap: 'external',
      keepNames: true,
      logLevel: 'warning',
      // require.resolve of a package's file (the viewer reads cytoscape's browser build as text)
      // resolves at run time from lib/bundle/ as well as from lib/: nothing to bundle there.
      logOverride: { 'require-resolve-not-external': 'silent' },
      write: false,
    });
    fs.mkdirSync(BUNDLES, { recursive: true });
    fs.rmSync(`${outfile}.v8cache`, { force: true });
    for (const file of built.outputFiles) {
      fs.writeFileSync(`${file.path}.tmp`, file.contents);
      fs.renameSync(`${file.path}.tmp`, file.path);
    }
    writeStamp(stamp, hash);
    return outfile;
  });
}

/**
 * Runs the bundle as `require` would, but compiled from V8's code cache of an earlier run (beside
 * the bundle, `<bundle>.v8cache`), so a run skips parsing and compiling what the last one executed:
 * what Node 22's module compile cache does, which Node 20 lacks. The cache is made after a run that
 * had none (or whose cache V8 rejected), when the process exits, and written atomically; the bundle
 * is rewritten on every rebuild, which removes its stale cache.
 */
function runWithCodeCache(bundle) {
  const Module = require('module');
  const vm = require('vm');
  const cacheFile = `${bundle}.v8cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf-8')), { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        fs.writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData());
        fs.renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
      } catch {
        // Only a cache: the next run compiles again.
      }
    });
  }
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  require.cache[bundle] = mod;
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  mod.loaded = true;
}

try {
  const [entry, ...args] = process.argv.slice(2);
  if (entry === '--stamp') {
    writeStamp(LIB_STAMP, inputsHash());
  } else if (entry === '--compile') {
    withBuildLock(() => compileIfStale(inputsHash()));
  } else if (!entry || !/^(src|todo)\/.+\.ts$/.test(entry)) {
    process.stderr.write('usage: node scripts/run-compiled.js (src|todo)/<module>.ts [args...] | --compile | --stamp\n');
    process.exitCode = 2;
  } else {
    const bundle = freshBundle(entry, inputsHash());
    process.argv = [process.argv[0], bundle, ...args];
    runWithCodeCache(bundle);
  }
} catch (e) {
  if (!(e instanceof CompileFailed)) throw e;
  process.exitCode = e.status;
}
