import { Engine } from './engine/engine.js';
import { openMemory } from './store/index.js';
import { workload } from './bench/write.js';
import { encodeRecord, ChainReader } from './store/codec.js';
const log = await openMemory();
const e = await Engine.open(log);
for (const [c, a] of workload(2000)) await e.execute('A', c, a);
const recs = await log.readAll();
let prev = ''; const values: string[] = [];
for (const r of recs) { const { seq, hash: _h, prevHash: _p, ...rest } = r; const x = encodeRecord(seq, rest, prev); prev = x.record.hash; values.push(x.value); }
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  const c = new ChainReader(1, '');
  for (const v of values) c.next(v);
  const ms = performance.now() - t0;
  console.log('decode', Math.round(values.length / (ms / 1000)), 'rec/s');
}
