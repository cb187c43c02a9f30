// The installed entry (bin/blockgraph.js) starts a serving `blockgraph qmp` with one libuv pool
// worker (bin/serve-pool.js, issue 15: every synced batch on the same thread instead of the worker
// that slept the longest), counted by the threads the process starts, never timed. The entry runs
// from a copy of bin/ over a stand-in dist/cli/main.js that does pool work (parallel fs reads) and
// reports its thread count and whether UV_THREADPOOL_SIZE is still set.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const { servePoolSize } = createRequire(import.meta.url)(join(ROOT, 'bin/serve-pool.js')) as { servePoolSize: (argv: string[], env: Record<string, string | undefined>) => string | undefined };

test('servePoolSize: one worker for the qmp server, nothing for its oracle tools or other commands, a user\'s value kept', () => {
  assert.is(servePoolSize(['qmp', '--socket', '/tmp/s', '--db', 'd'], {}), '1');
  assert.is(servePoolSize(['--quiet', 'qmp'], {}), '1');
  assert.is(servePoolSize(['qmp'], {}), '1');
  assert.is(servePoolSize(['qmp'], { UV_THREADPOOL_SIZE: '8' }), undefined);
  for (const tool of ['run', 'record', 'compare', 'proxy']) assert.is(servePoolSize(['qmp', tool, 'x'], {}), undefined, tool);
  assert.is(servePoolSize(['show', '--db', 'd'], {}), undefined);
  assert.is(servePoolSize(['audit'], {}), undefined);
  assert.is(servePoolSize([], {}), undefined);
});

test('bin/blockgraph.js: a qmp process starts one pool worker, other commands four; the variable is not passed on', () => {
  const t = tempDir('bg-serve-pool-');
  try {
    cpSync(join(ROOT, 'bin'), join(t.dir, 'bin'), { recursive: true });
    writeFileSync(join(t.dir, 'package.json'), '{"type": "module"}\n');
    mkdirSync(join(t.dir, 'dist/cli'), { recursive: true });
    writeFileSync(join(t.dir, 'dist/cli/main.js'), [
      "import { readdirSync } from 'node:fs';",
      "import { readFile } from 'node:fs/promises';",
      'export async function main() {',
      // eight reads at once: as many workers as the pool has are started and busy
      "  await Promise.all(Array.from({ length: 8 }, () => readFile(new URL(import.meta.url))));",
      "  console.log(JSON.stringify({ threads: readdirSync('/proc/self/task').length, env: process.env.UV_THREADPOOL_SIZE ?? null }));",
      '  return 0;',
      '}',
    ].join('\n'));
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [join(t.dir, 'bin/blockgraph.js'), ...args], { encoding: 'utf8', env, timeout: 60_000 });
      assert.is(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { threads: number; env: string | null };
    };
    const show = run('show', '--db', 'x');
    const qmp = run('qmp', '--socket', join(t.dir, 's'));
    assert.is(show.threads - qmp.threads, 3, `a qmp server has 3 pool workers fewer (show ${show.threads}, qmp ${qmp.threads})`);
    assert.is(qmp.env, null, 'UV_THREADPOOL_SIZE removed once the pool started');
    assert.is(show.env, null);
    // a value the user gave is kept (and so stays in the environment)
    const r = spawnSync(process.execPath, [join(t.dir, 'bin/blockgraph.js'), 'qmp'], { encoding: 'utf8', env: { ...env, UV_THREADPOOL_SIZE: '4' }, timeout: 60_000 });
    const user = JSON.parse(r.stdout) as { threads: number; env: string | null };
    assert.is(user.threads, show.threads);
    assert.is(user.env, '4');
  } finally {
    t.done();
  }
});

test.run();
