// Seek and streaming reads on an existing long log (issue 15's 10M-record log), each command
// next to its raw floor measured in the same run: one CLI process per line (compiled dist/,
// bin/blockgraph.js), wall time, CPU (user + sys) and peak RSS from `/usr/bin/time`, and the
// 1-minute load average when it started. The raw floor (bench/raw-read.mjs) is a node process
// with classic-level alone reading the same store without changing it: for a seek, the newest
// snapshot at or before the seq and the records after it, unparsed; for a scan, every record
// value, unparsed. Figures go to bench/RESULTS.md by hand.
//
//   node --import tsx bench/seek-big.ts DB [seeks|scans|all] [REPEAT]
//
// Build the log first (bench/build-log.ts through bench/replay-1m.ts, or bench/seek.ts with
// BENCH_SEEK_DB). The scans write their output to /dev/null (report to a temp dir).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/blockgraph.js');
const RAW = join(ROOT, 'bench/raw-read.mjs');

export interface Run { label: string; wallS: number; cpuS: number; rssMb: number; load: number; status: number }

/** One process under /usr/bin/time: wall, CPU, peak RSS; stdout to `out`. */
export function timed(label: string, argv: string[], out = '/dev/null'): Run {
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', 'sh', '-c', `"$0" "$@" > ${out}`, ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallS = (performance.now() - t0) / 1000;
  const [rssKb, user, sys] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  if (r.status !== 0) process.stderr.write(r.stderr.slice(-2000));
  return { label, wallS, cpuS: (user ?? NaN) + (sys ?? NaN), rssMb: (rssKb ?? NaN) / 1024, load, status: r.status ?? -1 };
}

function rawJson(db: string, ...args: string[]): unknown {
  const r = spawnSync(process.execPath, [RAW, db, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const f2 = (n: number) => n.toFixed(2);
const mb = (n: number) => `${Math.round(n)} MB`;

async function main(): Promise<void> {
  const [db, what = 'all', rep = '2'] = process.argv.slice(2);
  if (!db || !existsSync(join(db, 'CURRENT'))) throw new Error('usage: bench/seek-big.ts DB [seeks|scans|all] [REPEAT]');
  const repeat = Number(rep);
  const node = process.execPath;
  const head = rawJson(db, 'head') as number;
  const mid = Math.floor(head / 2);
  const [, snapA, snapB] = rawJson(db, 'snaps', String(mid + 500)) as number[];
  console.log(`log ${db}: head ${head}; snapshots around the middle ${snapA} ${snapB}`);
  console.log('| command | raw floor (same run) | load | wall s | CPU s | peak RSS | raw wall s / CPU s / RSS | wall / raw | CPU / raw |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const row = (args: string[], raw: string[] | undefined, n = repeat) => {
    // Interleaved: raw, CLI, raw, CLI …; the best CPU of each kept.
    let best: Run | undefined;
    let bestRaw: Run | undefined;
    for (let i = 0; i < n; i++) {
      if (raw) { const r = timed('raw', [node, RAW, db, ...raw]); if (!bestRaw || r.cpuS < bestRaw.cpuS) bestRaw = r; }
      const c = timed(args.join(' '), [node, CLI, ...args.map((a) => (a === 'DB' ? db : a))]);
      if (!best || c.cpuS < best.cpuS) best = c;
    }
    const b = best!;
    const r = bestRaw;
    console.log(`| \`${b.label.replace(' --db DB', '')}\`${b.status ? ` (exit ${b.status})` : ''} | ${raw ? raw.join(' ') : '-'} | ${b.load.toFixed(1)} | ${f2(b.wallS)} | ${f2(b.cpuS)} | ${mb(b.rssMb)} | ${r ? `${f2(r.wallS)} / ${f2(r.cpuS)} / ${mb(r.rssMb)}` : '-'} | ${r ? f2(b.wallS / r.wallS) + 'x' : '-'} | ${r ? f2(b.cpuS / r.cpuS) + 'x' : '-'} |`);
  };
  if (what === 'seeks' || what === 'all') {
    const base = timed('node -e 0', [node, '-e', '0']);
    const help = timed('blockgraph --help', [node, CLI, '--help']);
    console.log(`| \`node -e 0\` | - | ${base.load.toFixed(1)} | ${f2(base.wallS)} | ${f2(base.cpuS)} | ${mb(base.rssMb)} | - | - | - |`);
    console.log(`| \`blockgraph --help\` | - | ${help.load.toFixed(1)} | ${f2(help.wallS)} | ${f2(help.cpuS)} | ${mb(help.rssMb)} | - | - | - |`);
    for (const at of [1, 1000, mid + 7, snapA! + 1, snapB! - 1, head - 3]) row(['show', '--db', 'DB', '--at', String(at)], ['seek', String(at)]);
    row(['show', '--db', 'DB'], ['seek', String(Number.MAX_SAFE_INTEGER)]);
    row(['show', '--db', 'DB', '--at', String(mid), '--json'], ['seek', String(mid)]);
    row(['diff', '--db', 'DB', String(snapA! + 1), String(snapB! - 1)], ['seek', String(snapB! - 1)]);
    row(['diff', '--db', 'DB', String(Math.floor(head / 3)), String(head - 11)], ['seek', String(head - 11)]);
    row(['diff', '--db', 'DB', '5', String(head)], ['seek', String(head)]);
    row(['render', '--db', 'DB', '--at', String(Math.floor(head / 4) + 5)], ['seek', String(Math.floor(head / 4) + 5)]);
    row(['show', '--db', 'DB', '--at', '2026-01-01T00:05:00Z'], undefined);
    // b0: added first, under rb0 for the whole log; x1: an early cycle's node; the middle's.
    row(['history', '--db', 'DB', 'b0'], undefined);
    row(['history', '--db', 'DB', 'x1', '--json'], undefined);
    row(['history', '--db', 'DB', `x${Math.floor(head / 2)}`], undefined);
    row(['history', '--db', 'DB', 'nosuch'], undefined);
  }
  if (what === 'scans' || what === 'all') {
    const out = mkdtempSync(join(tmpdir(), 'bg-report-'));
    try {
      row(['audit', '--db', 'DB', '--json'], ['iterate'], 1);
      row(['audit', '--db', 'DB'], ['iterate'], 1);
      row(['log', '--db', 'DB'], ['iterate'], 1);
      row(['report', '--db', 'DB', '--out', out], ['iterate'], 1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
