// Seek and streaming reads on a long log, from the CLI as a user runs it (compiled dist/,
// one process per command, wall time and peak RSS from /usr/bin/time):
//   - builds a log of BENCH_SEEK_RECORDS records (default 1M) through the engine, as
//     `blockgraph qmp` writes it (snapshot every 1000 records), 64 commands in flight;
//   - times `show --at` at several seqs, `diff`, `render --at`, `history NODE`, `audit`,
//     `audit --json`, `log --json`, next to `node -e 0` and `blockgraph --help`.
// `npm run bench:seek` (needs `npx tsc -p tsconfig.json` first for dist/). Figures go to bench/RESULTS.md by hand.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { openClassic } from '../store/index.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli/main.js');

/** add x, add raw r over x (an edge), del r, del x; one node in 200 cycles is kept. */
export async function buildLongLog(dir: string, records: number, onProgress?: (n: number) => void): Promise<{ head: number; ms: number; kept: number }> {
  const log = await openClassic(dir);
  let t = Date.parse('2026-01-01T00:00:00.000Z');
  const e = await Engine.open(log, { clock: () => new Date((t += 10)).toISOString(), snapshotEvery: 1000 });
  const t0 = performance.now();
  let i = 0;
  let kept = 0;
  const cmds = function* (): Generator<[string, Record<string, unknown>]> {
    for (;;) {
      const c = i++;
      yield ['blockdev-add', { driver: 'null-co', 'node-name': `x${c}` }];
      yield ['blockdev-add', { driver: 'raw', 'node-name': `r${c}`, file: `x${c}` }];
      yield ['blockdev-del', { 'node-name': `r${c}` }];
      if (c % 200 === 0) kept++;
      else yield ['blockdev-del', { 'node-name': `x${c}` }];
    }
  }();
  const inflight = new Set<Promise<unknown>>();
  let last = 0;
  while (log.head < records) {
    // Issue up to 64 commands, then wait for one reply; the engine orders them.
    while (inflight.size < 64) {
      const [cmd, args] = cmds.next().value as [string, Record<string, unknown>];
      const p: Promise<unknown> = e.execute('A', cmd, args).then((r) => {
        inflight.delete(p);
        if ('error' in r.reply) throw new Error(`${cmd} ${JSON.stringify(args)}: ${r.reply.error.desc}`);
      });
      inflight.add(p);
    }
    await Promise.race(inflight);
    if (onProgress && log.head - last >= 100_000) onProgress((last = log.head));
  }
  await Promise.all(inflight);
  const head = log.head;
  await log.close();
  return { head, ms: performance.now() - t0, kept };
}

export interface CliRun { args: string; ms: number; cpuMs: number; rssMb: number; status: number; bytes: number }

/**
 * One CLI process: wall ms (measured here), CPU ms (user + sys) and peak RSS (from
 * /usr/bin/time). On a loaded machine the wall time is mostly waiting for a core; the CPU time
 * is the work the command did.
 */
export function runCli(args: string[], out = '/dev/null'): CliRun {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', 'sh', '-c', `"$0" "$@" > ${out}`, process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  const [rssKb, user, sys] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { args: args.join(' '), ms, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, rssMb: (rssKb ?? NaN) / 1024, status: r.status ?? -1, bytes: 0 };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`no ${CLI}: run \`npx tsc -p tsconfig.json\` first`);
  const records = Number(process.env.BENCH_SEEK_RECORDS ?? 1_000_000);
  const keep = process.env.BENCH_SEEK_DB;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'bg-seek-'));
  const db = join(dir, 'db');
  try {
    if (!existsSync(db)) {
      const b = await buildLongLog(db, records, (n) => console.error(`  … ${n} records`));
      console.log(`built ${b.head} records in ${(b.ms / 1000).toFixed(1)} s (${Math.round(b.head / (b.ms / 1000))} records/s, ${b.kept} nodes kept)`);
    }
    const head = Number(process.env.BENCH_SEEK_HEAD ?? records);
    const runs: CliRun[] = [];
    const best = (args: string[], n = Number(process.env.BENCH_SEEK_REPEAT ?? 3)) => {
      let b: CliRun | undefined;
      for (let i = 0; i < n; i++) { const r = runCli(args); if (!b || r.cpuMs < b.cpuMs) b = r; }
      runs.push(b!);
      console.log(`${b!.args.replace(CLI, 'blockgraph').replace(db, 'DB')}\t${b!.ms.toFixed(0)} ms\t${b!.cpuMs.toFixed(0)} ms cpu\t${b!.rssMb.toFixed(0)} MB\texit ${b!.status}`);
    };
    best(['-e', '0']);
    best([CLI, '--help']);
    {
      // What every read command paid before its open linked the tables: a copy of the whole store.
      const to = mkdtempSync(join(tmpdir(), 'bg-seek-copy-'));
      const t0 = performance.now();
      const r = spawnSync('cp', ['-r', realpathSync(db), join(to, 'db')]);
      const ms = performance.now() - t0;
      rmSync(to, { recursive: true, force: true });
      const du = spawnSync('du', ['-sm', realpathSync(db)], { encoding: 'utf8' }).stdout.split('\t')[0];
      console.log(`cp -r DB (${du} MB; the copy a read made before)\t${ms.toFixed(0)} ms\t-\texit ${r.status}`);
    }
    for (const at of [1, 1000, Math.floor(head / 2) + 7, head - 3, head]) best([CLI, 'show', '--db', db, '--at', String(at)]);
    best([CLI, 'show', '--db', db, '--at', String(Math.floor(head / 2)), '--json']);
    best([CLI, 'diff', '--db', db, String(Math.floor(head / 3)), String(head - 11)]);
    best([CLI, 'render', '--db', db, '--at', String(Math.floor(head / 4) + 5)]);
    best([CLI, 'show', '--db', db, '--at', '2026-01-01T00:05:00Z']);
    best([CLI, 'history', '--db', db, 'x0']);
    best([CLI, 'history', '--db', db, 'x199', '--json']);
    best([CLI, 'history', '--db', db, 'nosuch']);
    if (process.env.BENCH_SEEK_SCANS !== '0') {
      best([CLI, 'audit', '--db', db], 1);
      best([CLI, 'audit', '--db', db, '--json'], 1);
      best([CLI, 'log', '--db', db, '--json'], 1);
      best([CLI, 'verify', '--db', db], 1);
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
