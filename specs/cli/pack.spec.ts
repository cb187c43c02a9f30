// The npm package as a stranger gets it: `npm pack`, then `npm install ./blockgraph-*.tgz` in
// an empty package, then the CLI (--version, conformance on the shipped transcripts) and the
// library (import { Engine } from 'blockgraph', blockgraph/testing's transcript()) from there.
// Slow (~30-60 s: an npm install and a conformance run); skipped only when npm is absent.
import { execSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
// maxBuffer: `npm pack --json` lists every shipped file, past spawnSync's 1 MiB default once the
// recorded transcripts passed ~9,000 (stop 44: 1,062,171 bytes, the run ended with ENOBUFS)
const run = (cmd: string, args: string[], opts: SpawnSyncOptions = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 256 * 1024 * 1024, ...opts }) as { status: number | null; stdout: string; stderr: string; error?: Error };
const npm = run('npm', ['--version']);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

/** The newest mtime under a source folder (dist must be at least as new to be shipped as is). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

test('npm pack ships a package that installs and runs: --version, conformance, import { Engine }, blockgraph/testing', () => {
  if (npm.error || npm.status !== 0) {
    console.log('skipped: npm is not installed, so the package cannot be packed');
    return;
  }
  // `npm ci` builds dist (prepare); rebuild only when a source is newer, as prepack would.
  const main = join(ROOT, 'dist/cli/main.js');
  const src = Math.max(...['cli', 'engine', 'graph', 'replay', 'store', 'commands', 'oracle', 'qmp', 'testing', 'machines', 'events', 'errors'].map((d) => newest(join(ROOT, d))));
  if (!existsSync(main) || statSync(main).mtimeMs < src) {
    const b = run('npm', ['run', 'build'], { cwd: ROOT });
    assert.is(b.status, 0, b.stdout + b.stderr);
  }
  const t = tempDir('bg-pack-');
  try {
    const p = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', t.dir], { cwd: ROOT });
    assert.is(p.status, 0, `${p.error?.message ?? ''} ${p.stderr}`);
    const info = JSON.parse(p.stdout)[0] as { filename: string; files: { path: string }[] };
    const files = info.files.map((f) => f.path);
    for (const f of ['bin/blockgraph.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/testing/index.js', 'README.md', 'oracle/transcripts/README.md']) {
      assert.ok(files.includes(f), `the package holds ${f}`);
    }
    // every recorded transcript of the repo (the public 64, the mechanisms', the iotests port, fuzz-found)
    const recorded = execSync('git ls-files "oracle/transcripts/*.json"', { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    assert.ok(recorded.length >= 64);
    assert.is(files.filter((f) => /^oracle\/transcripts\/.*\.json$/.test(f)).length, recorded.length, 'every recorded transcript');
    assert.not.ok(files.some((f) => f.startsWith('specs/') || f.startsWith('dist/specs/') || f.startsWith('dist/bench/')), 'no specs or benches');

    const app = join(t.dir, 'app');
    mkdirSync(app);
    assert.is(run('npm', ['init', '-y'], { cwd: app }).status, 0);
    const inst = run('npm', ['install', join(t.dir, info.filename), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], { cwd: app });
    assert.is(inst.status, 0, inst.stdout + inst.stderr);
    assert.not.ok(existsSync(join(app, 'node_modules/blockgraph/specs')), 'nothing but the files field is installed');

    const v = run('npx', ['--no-install', 'blockgraph', '--version'], { cwd: app });
    assert.is(v.status, 0, v.stderr);
    assert.is(v.stdout.trim(), pkg.version);
    const lib = run(process.execPath, ['--input-type=module', '-e', `
      const m = await import('blockgraph');
      const t = await import('blockgraph/testing');
      const trial = await t.given.scenario(t.transcript('add-del-basic'));
      console.log(typeof m.Engine, typeof m.openClassic, t.transcripts().length, Object.keys(trial.state.A?.nodes ?? {}).length >= 0);
      await trial.close();`], { cwd: app });
    assert.is(lib.status, 0, lib.stderr);
    const topLevel = recorded.filter((f) => !f.slice('oracle/transcripts/'.length).includes('/')).length;
    assert.is(lib.stdout.trim(), `function function ${topLevel} true`);
    const c = run('npx', ['--no-install', 'blockgraph', 'conformance'], { cwd: app });
    assert.is(c.status, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /total +\d+ +100% +100% +100%/);
    const bad = run('npx', ['--no-install', 'blockgraph', 'log', '--from', 'abc'], { cwd: app });
    assert.is(bad.status, 2, 'the installed CLI maps bad input to exit 2');
  } finally {
    t.done();
  }
});

test.run();
