import { Engine, FIXED_CLOCK } from '../engine/engine.js';
import { openMemory } from '../store/index.js';
import { replay } from '../replay/replay.js';
import { WORKLOAD_IMAGES } from '../replay/drill/workload.js';
const log = await openMemory();
const e = await Engine.open(log, { clock: FIXED_CLOCK });
for (const im of WORKLOAD_IMAGES) await e.execute('A', 'x-blockgraph-image-create', im as any);
for (const [c, a] of [['blockdev-add', {"driver":"qcow2","node-name":"base","file":{"driver":"file","filename":"base.qcow2"},"backing":""}], ['blockdev-add', {"node-name":"base","file":{"driver":"file","filename":"base.qcow2"},"backing":null}]] as const) {
  const r = await e.execute('A', c, a as any);
  console.log(JSON.stringify(r.reply));
}
const f = await replay(log, { fromScratch: true });
console.log(JSON.stringify(f.state) === JSON.stringify(e.state));
const a = JSON.stringify(f.state), b = JSON.stringify(e.state);
let i = 0; while (a[i] === b[i]) i++; console.log(a.slice(i - 200, i + 200)); console.log(b.slice(i - 200, i + 200));
