// The raw floor of a read command on a store, for bench/seek-10m.ts: one node process with
// classic-level and nothing of blockgraph. It opens the store as a read must without changing a
// file of it (a private directory: tables hard-linked, CURRENT / MANIFEST / WAL copied: what
// LevelDB's open rewrites), then either
//   seek N:   the newest snapshot at or before N (its value and parts) and the records after it
//             up to N, read with nextv, not parsed: the least a seek to N can read;
//   iterate:  every record value of the log with nextv, not parsed.
//   head:     the seq of the last record;
//   snaps N:  the seqs of the two snapshots before N and the two after (to choose seqs to time).
// `node bench/raw-read.mjs DB seek N|snaps N|head|iterate` (needs dist/: `npm run build`); prints what it read.
import { copyFileSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { manifestNextFileNumber } from '../dist/store/leveldb-manifest.js';

const [db, op, arg] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'bg-raw-'));
// Only tables below the MANIFEST's next file number are linked, as store/read-only.ts does: an
// unlisted table at or above it (a compaction's output cut by the writer's close) has a number
// this open's recovery reuses with O_TRUNC, which through a link rewrites the store's file.
const next = manifestNextFileNumber(readFileSync(join(db, readFileSync(join(db, 'CURRENT'), 'latin1').trim())));
for (const f of readdirSync(db)) {
  if (f === 'LOCK' || f.startsWith('LOG')) continue;
  const table = /^(\d+)\.(ldb|sst)$/.exec(f);
  if (table) { if (Number(table[1]) < next) linkSync(join(db, f), join(dir, f)); }
  else copyFileSync(join(db, f), join(dir, f));
}
const level = new ClassicLevel(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
await level.open({ createIfMissing: false, maxOpenFiles: 40, cacheSize: 1 << 20 });
const key = (n) => n.toString(16).padStart(16, '0');
let records = 0;
let bytes = 0;
async function drain(it) {
  for (;;) {
    const batch = await it.nextv(1000);
    if (batch.length === 0) break;
    for (const [, v] of batch) { records++; bytes += v.length; }
  }
  await it.close();
}
try {
  if (op === 'seek') {
    const n = Number(arg);
    const snaps = await level.keys({ gt: '!snap!', lte: '!snap!' + key(n), reverse: true, limit: 1 }).all();
    let from = 0;
    if (snaps.length) {
      const k = snaps[0];
      from = parseInt(k.slice('!snap!'.length), 16);
      bytes += (await level.get(k)).length;
      // a parted snapshot's parts (store/snapshot-parts.ts): all under the seq's prefix
      await drain(level.iterator({ gte: '!snapp!' + key(from), lt: '!snapp!' + key(from) + '\u0100' }));
    }
    await drain(level.iterator({ gt: '!log!' + key(from), lte: '!log!' + key(n) }));
  } else if (op === 'snaps') {
    // the snapshot seqs around N (where a seek starts its fold): for choosing seqs to measure
    const n = Number(arg);
    const before = await level.keys({ gt: '!snap!', lte: '!snap!' + key(n), reverse: true, limit: 2 }).all();
    const after = await level.keys({ gt: '!snap!' + key(n), lt: '!snap"', limit: 2 }).all();
    console.log(JSON.stringify([...before.reverse(), ...after].map((k) => parseInt(k.slice('!snap!'.length), 16))));
    records = before.length + after.length;
  } else if (op === 'head') {
    const last = await level.keys({ gt: '!log!', lt: '!log"', reverse: true, limit: 1 }).all();
    console.log(last.length ? parseInt(last[0].slice('!log!'.length), 16) : 0);
  } else if (op === 'iterate') {
    await drain(level.iterator({ gt: '!log!', lt: '!log"' }));
  } else {
    throw new Error(`usage: raw-read.mjs DB seek N | snaps N | iterate`);
  }
} finally {
  await level.close();
  rmSync(dir, { recursive: true, force: true });
}
if (op !== 'snaps' && op !== 'head') console.log(`${op} ${arg ?? ''}: ${records} values, ${bytes} bytes`);
