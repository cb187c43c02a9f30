// Round 3 of the hostile inputs (scripts/hostile-inputs.ts fixtures): a path on the command line
// that cannot be read as a file is bad input (exit 2, one line), never the store's I/O error.
// `qmp compare DIR DIR` said `store (store): EISDIR: illegal operation on a directory, read
// [BG_STORAGE_IO]` and exited 74, though no store is involved.
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';
import { inProcess } from '../store/fault-matrix.js';

test('qmp compare / qmp run: a directory or a missing file is bad input (exit 2), not a store I/O error', async () => {
  const t = tempDir('bg-hostile-inputs-');
  try {
    const dir = join(t.dir, 'd');
    mkdirSync(dir);
    const ok = join('oracle', 'transcripts', readdirSync(join('oracle', 'transcripts')).filter((f) => f.endsWith('.json')).sort()[0]!);
    for (const args of [['qmp', 'compare', dir, dir], ['qmp', 'compare', join(t.dir, 'missing'), ok], ['qmp', 'compare', ok, dir], ['qmp', 'run', dir]]) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /cannot read .*: (EISDIR|ENOENT) \[BG_BAD_INPUT\]/);
      assert.not.match(r.stderr, /BG_STORAGE_IO|\n\s+at /);
    }
  } finally {
    t.done();
  }
});

/** The CLI in a child, killed after `ms` (a hang is a failure, not a stuck test run). */
function child(args: string[], ms = 60_000): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const p = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (c) => { stdout += c; });
  p.stderr.on('data', (c) => { stderr += c; });
  const timer = setTimeout(() => p.kill('SIGKILL'), ms);
  return new Promise((resolve) => p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr, ms: Date.now() - t0 }); }));
}

const transcript = join('oracle', 'transcripts', 'job-commit-active.json');

// Round 4: a fifo nobody writes to blocked all four commands in open(2) for ever (readFileSync
// waits for a writer, as `cat` does). It is now opened non-blocking and refused after --timeout.
test('a fifo nobody writes to is refused after --timeout (exit 2) by qmp run, qmp compare, import, fixture import', async () => {
  const t = tempDir('bg-hostile-fifo-');
  try {
    const fifo = join(t.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const runs = await Promise.all([
      ['qmp', 'run', fifo], ['qmp', 'compare', transcript, fifo], ['import', fifo, '--db', join(t.dir, 'db1')], ['fixture', 'import', fifo, '--db', join(t.dir, 'db2')],
    ].map((args) => child([...args, '--timeout', '1'])));
    for (const r of runs) {
      assert.is(r.status, 2, r.stderr);
      assert.match(r.stderr, /fifo: a pipe nobody writes to \(no writer within 1 s; --timeout SECONDS waits longer\) \[BG_BAD_INPUT\]/);
    }
    // nothing was created for the refused imports
    assert.equal(readdirSync(t.dir).sort(), ['fifo']);
  } finally {
    t.done();
  }
});

test('a pipe is read once, to its end: a fifo whose writer comes late, and `--compare` against the same pipe', async () => {
  const t = tempDir('bg-hostile-fifo-');
  try {
    const fifo = join(t.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // the writer opens the fifo a second after the reader started waiting for one
    const writer = spawn('sh', ['-c', `sleep 1; cat ${transcript} > ${fifo}`], { stdio: 'ignore' });
    // (before: the second readFileSync of --compare blocked on the fifo, whose writer had gone)
    const r = await child(['qmp', 'run', fifo, '--compare', '--timeout', '30']);
    writer.kill();
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^job-commit-active: outcome 10\/10, error text 10\/10, graph 10\/10$/m);
  } finally {
    t.done();
  }
});

// Round 4: nothing bounded an input's size or step count (a 200 000-step transcript held `qmp
// run` 40 s; a 64 MB file was parsed for 20 s before being refused).
test('a file past its size limit or a transcript past the step limit: BG_INPUT_TOO_LARGE, exit 2, before anything runs', async () => {
  const t = tempDir('bg-hostile-limits-');
  try {
    const big = join(t.dir, 'big.json');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 32 * 1024 * 1024 + 1); // sparse: costs no disk
    closeSync(fd);
    for (const args of [['qmp', 'run', big], ['qmp', 'compare', big, transcript], ['import', big, '--db', join(t.dir, 'db')]]) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /big\.json: 33554433 bytes is more than a .* may hold \(32 MiB\) \[BG_INPUT_TOO_LARGE\]/);
    }
    const bigger = join(t.dir, 'big.jsonl');
    const fd2 = openSync(bigger, 'w');
    ftruncateSync(fd2, 256 * 1024 * 1024 + 1);
    closeSync(fd2);
    const f = await inProcess(['fixture', 'import', bigger, '--db', join(t.dir, 'db')]);
    assert.is(f.status, 2, f.stderr);
    assert.match(f.stderr, /more than a fixture may hold \(256 MiB\) \[BG_INPUT_TOO_LARGE\]/);
    // 10 001 steps (each a query that would run): refused at parse, in no time
    const tr = JSON.parse(readFileSync(transcript, 'utf8')) as { steps: unknown[] };
    const step = tr.steps[0];
    const many = join(t.dir, 'many.json');
    writeFileSync(many, JSON.stringify({ ...tr, steps: Array.from({ length: 10_001 }, () => step) }));
    const at10k = join(t.dir, 'at10k.json');
    writeFileSync(at10k, JSON.stringify({ ...tr, steps: Array.from({ length: 10_000 }, () => step) }));
    for (const args of [['qmp', 'run', many], ['qmp', 'compare', many, transcript], ['import', many, '--db', join(t.dir, 'db')]]) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /many\.json\.steps: 10001 steps are more than a scenario or transcript may hold \(10000\) \[BG_INPUT_TOO_LARGE\]/);
    }
    // the limit itself is allowed
    const ok = await inProcess(['qmp', 'compare', at10k, at10k]);
    assert.is(ok.status, 0, ok.stderr);
    assert.equal(readdirSync(t.dir).sort(), ['at10k.json', 'big.json', 'big.jsonl', 'many.json']);
  } finally {
    t.done();
  }
});

test('a pipe past the size limit is cut off there (no unbounded buffering); a character device is refused', async () => {
  const t = tempDir('bg-hostile-limits-');
  try {
    const fifo = join(t.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `head -c 100000000 /dev/zero > ${fifo}`], { stdio: 'ignore' });
    const r = await child(['qmp', 'run', fifo]);
    writer.kill();
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, /fifo: more than 33554432 bytes is more than a transcript or scenario may hold \(32 MiB\) \[BG_INPUT_TOO_LARGE\]/);
    const z = await inProcess(['import', '/dev/zero', '--db', join(t.dir, 'db')]);
    assert.is(z.status, 2, z.stderr);
    assert.match(z.stderr, /cannot read \/dev\/zero: a character device, not a file or a pipe \[BG_BAD_INPUT\]/);
    assert.equal(readdirSync(t.dir), ['fifo']);
  } finally {
    t.done();
  }
});

test.run();
