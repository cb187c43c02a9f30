// `npm run bench`: every benchmark in one run, with raw classic-level measured alongside,
// and bench/RESULTS.md rewritten with the figures and ratios of this run.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEngineAppend, benchEngineAtSize, benchLocality, benchReplay } from './engine.js';
import { anchorSection, benchAnchor } from './anchor.js';
import { benchLogAppend, benchLogRead, benchRawBatch, benchRawIterate } from './store.js';

const KEPT_MARKER = '<!-- kept by npm run bench -->';
const root = mkdtempSync(join(tmpdir(), 'bg-bench-'));
const lines: string[] = [];
const out = (s: string) => { console.log(s); lines.push(s); };
const k = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
const best = async (n: number, f: () => Promise<number>) => { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, await f()); return m; };

try {
  const N = Number(process.env.BENCH_N ?? 20_000);
  out(`# Benchmark results\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}. Ratios compare blockgraph with raw classic-level measured in the same run; best of 3 where noted.\n`);

  out('## Durable append (sync batches)\n');
  out('| batch size | raw classic-level batch put, records/s | EventLog.append, records/s | ratio (target >= 50%) |');
  out('|---|---|---|---|');
  for (const bs of [1, 10, 100]) {
    const n = bs === 1 ? 2000 : N;
    let i = 0;
    const raw = await best(3, () => benchRawBatch(join(root, `raw-${bs}-${i++}`), n, bs));
    const log = await best(3, () => benchLogAppend(join(root, `log-${bs}-${i++}`), n, bs));
    out(`| ${bs} | ${k(raw)} | ${k(log)} | ${pct(log, raw)} |`);
  }

  out('\n## Reading and replay\n');
  const rawDir = join(root, 'raw-100-0');
  const logDir = join(root, 'log-100-3');
  const rawIt = await best(3, () => benchRawIterate(rawDir));
  const logRd = await best(3, () => benchLogRead(logDir));
  out('| what | records/s | ratio to raw nextv iteration (target >= 60%) |');
  out('|---|---|---|');
  out(`| raw classic-level nextv iteration (+ JSON.parse) | ${k(rawIt)} | 100% |`);
  out(`| EventLog.read (CRC + hash chain verified) | ${k(logRd)} | ${pct(logRd, rawIt)} |`);

  const eng = join(root, 'engine');
  const txns = Number(process.env.BENCH_TXNS ?? 2000);
  const a = await benchEngineAppend(eng, txns);
  // interleaved best of 3, so both see the same cache and load
  let rep = 0;
  let rawEng = 0;
  let r = { records: 0, ms: 0, eventsPerSec: 0 };
  for (let i = 0; i < 3; i++) {
    rawEng = Math.max(rawEng, await benchRawIterate(eng, false)); // the engine log's values are framed text: bare iteration
    r = await benchReplay(eng);
    rep = Math.max(rep, r.eventsPerSec);
  }
  out(`| raw classic-level nextv iteration of the engine log (bare, no parse) | ${k(rawEng)} | 100% |`);
  out(`| replay of the engine log (${k(r.records)} records, ${a.avgBytes} bytes each on average: read, CRC, parse, fold into graph state) | ${k(rep)} | ${pct(rep, rawEng)} of bare iteration of the same log |`);
  out('');
  out(rep >= 150_000
    ? `Replay reaches the 150k events/s target (${k(rep)}/s).`
    : `Replay runs at ${k(rep)} events/s: below the 150k events/s target. Raw iteration of the same log with no parsing at all runs at ${k(rawEng)} records/s here${rawEng < 150_000 ? ', so the target is above what classic-level itself delivers for records of this size' : ''}; the gap is the per-record CRC check, JSON.parse of ~${a.avgBytes}-byte records (full before/after images of every changed entity) and the fold.`);

  out('\n## Engine transactions\n');
  out('| graph size (nodes) | ms per command (blockdev-add/del, memory-level) |');
  out('|---|---|');
  for (const size of [100, 1000, 5000]) {
    const m = await benchEngineAtSize(size);
    out(`| ${k(size)} | ${m.msPerCommand.toFixed(2)} |`);
  }
  out('');
  out(`${txns} QMP commands (blockdev-add/del of null-co nodes), each a transaction written as one synced batch (txn.begun, steps, txn.decided carrying the end), awaited one by one: ${k(a.txnPerSec)} transactions/s, ${k(a.recordsPerSec)} records/s.`);

  out('\n## Cost by locality (blockdev-add/del next to a chain of n nodes, memory-level)\n');
  out('| nodes | ms per command | ratio to 100 nodes (target <= 2x) | first command (builds the indexes kept with the state), ms |');
  out('|---|---|---|---|');
  let base = 0;
  for (const size of [100, 1000, 10000, 50000]) {
    const m = await benchLocality(size);
    if (size === 100) base = m.msPerCommand;
    out(`| ${k(size)} | ${m.msPerCommand.toFixed(2)} | ${(m.msPerCommand / base).toFixed(2)}x | ${m.firstMs.toFixed(1)} |`);
  }

  try {
    const aio = await import('./aio.js' as string) as { benchAioMove?: (n: number) => Promise<{ n: number; ms: number; nodesPerSec: number }> };
    if (aio.benchAioMove) {
      out('\n## AioContext move of a connected graph\n');
      out('| nodes | ms (to an iothread and back) | nodes/s |');
      out('|---|---|---|');
      for (const n of [1000, 5000, 10000]) {
        const m = await aio.benchAioMove(n);
        out(`| ${k(m.n)} | ${m.ms.toFixed(1)} | ${k(m.nodesPerSec)} |`);
      }
    }
  } catch (e) {
    out(`\n(AioContext bench not available: ${(e as Error).message})`);
  }
  out('\n' + anchorSection(await benchAnchor(root)));
  // Figures from the side-by-side and long-log benches (bench:qmp, bench:seek) follow a marker
  // and are kept across runs of this script.
  const file = new URL('./RESULTS.md', import.meta.url);
  const prev = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = prev.indexOf(KEPT_MARKER);
  writeFileSync(file, lines.join('\n') + '\n' + (at >= 0 ? '\n' + prev.slice(at) : ''));
} finally {
  rmSync(root, { recursive: true, force: true });
}
