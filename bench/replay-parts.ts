// Breakdown of replay per record on the values of a log held in memory (no LevelDB): what each
// stage adds. `node --import tsx bench/replay-parts.ts DBDIR [RECORDS]` (a log bench/write.ts or
// bench/replay-1m.ts built; the first RECORDS records, default all).
import { ClassicLevel } from 'classic-level';
import { crc32 } from 'node:zlib';
import { ChainReader, sublevelsOf, TABLE4 } from '../store/codec.js';
import { emptyFold, foldRaw, foldRecord } from '../replay/fold.js';
import { LazyFold } from '../replay/fold-lazy.js';
import { crcsSound } from '../store/crc-chunk.js';
import { newRedoScan, scanRedo } from '../store/redo-scan.js';

const db = new ClassicLevel<string, string>(process.argv[2]!, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
await db.open();
const { logPrefix, logEnd } = sublevelsOf(db);
const vals: string[] = [];
for await (const v of db.values({ gte: logPrefix, lt: logEnd, limit: Number(process.argv[3] ?? -1) })) vals.push(v);
await db.close();
const N = vals.length;
const chunks: string[][] = [];
for (let i = 0; i < N; i += 1000) chunks.push(vals.slice(i, i + 1000));
/** The text replay's read hands to JSON.parse: frame 3's redo part, or frame 2's body. */
const redoAt = (v: string) => (v[8] === '4' ? 113 + 4 * parseInt(v.substring(109, 113), 16) : 109);
const parsedPart = (v: string) => (v[8] === '3' || v[8] === '4' ? v.substring(redoAt(v), redoAt(v) + parseInt(v.substring(101, 109), 16)) : v.substring(101));
console.log(`${N} records, ${(vals.reduce((a, v) => a + v.length, 0) / N).toFixed(0)} chars each, ${(vals.reduce((a, v) => a + parsedPart(v).length, 0) / N).toFixed(0)} of them parsed by replay`);
let sink = 0;
const stages: [string, () => void][] = [
  ['crc32 of the value', () => { for (const v of vals) sink ^= crc32(v.substring(8)); }],
  // what replay parses: frame 3's redo part (format version 5), frame 2's whole body
  ['JSON.parse of what replay parses', () => { for (const v of vals) sink ^= (JSON.parse(parsedPart(v)) as unknown[]).length; }],
  ['JSON.parse of the whole body', () => { for (const v of vals) sink ^= v[8] === '3' || v[8] === '4' ? (JSON.parse(parsedPart(v)) as unknown[]).length ^ (JSON.parse(v.substring(redoAt(v) + parseInt(v.substring(101, 109), 16))) as unknown[]).length : (JSON.parse(v.substring(101)) as unknown[]).length; }],
  ['nextRaw (check + parse)', () => { const c = new ChainReader(1, ''); for (const v of vals) sink ^= c.nextRaw(v).seq; }],
  // format version 5 read lazily (replay/fold-lazy.ts): checks without substrings, the redo part scanned, not parsed
  ['frame3At (check, no parse)', () => { const c = new ChainReader(1, ''); for (const v of vals) { sink ^= c.frame3At(v); c.advance(v); } }],
  ['frame3At + scanRedo', () => { const c = new ChainReader(1, ''); const r = newRedoScan(); for (const v of vals) { const u = c.frame3At(v); sink ^= scanRedo(v, c.redoAt, u, r, c.version, TABLE4, c.entries) ? r.n : 0; c.advance(v); } }],
  ['crcsSound per chunk of 1000', () => { for (const ch of chunks) sink ^= crcsSound(ch) ? 1 : 0; }],
  ['lazy fold + materialize, CRC per value', () => { const c = new ChainReader(1, ''); const l = new LazyFold(emptyFold()); for (const v of vals) l.feed(c, v); l.materialize(); }],
  // what replay() does (EventLog.feedChunks): each chunk's CRCs at once, then the lazy fold
  ['lazy fold + materialize (replay)', () => { const c = new ChainReader(1, ''); const l = new LazyFold(emptyFold()); for (const ch of chunks) { const ok = crcsSound(ch); for (const v of ch) l.feed(c, v, ok); } l.materialize(); }],
  ['nextRaw + foldRaw (eager)', () => { const c = new ChainReader(1, ''); const f = emptyFold(); for (const v of vals) foldRaw(f, c.nextRaw(v)); }],
  ['next + foldRecord (before)', () => { const c = new ChainReader(1, ''); const f = emptyFold(); for (const v of vals) foldRecord(f, c.next(v)); }],
];
const best = new Map<string, number>();
for (let r = 0; r < 7; r++) {
  for (const [name, fn] of stages) {
    // CPU time of this process, not wall time: the machine is shared (figures hold under load)
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    best.set(name, Math.min(best.get(name) ?? Infinity, (d.user + d.system) / 1000));
  }
}
for (const [name] of stages) console.log(name.padEnd(30), (best.get(name)! * 1000 / N).toFixed(2), 'µs/record');
if (sink === 0.5) console.log(sink);
