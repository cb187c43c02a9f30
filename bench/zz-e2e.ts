import { openClassic } from '../store/index.js';
import { replay } from '../replay/replay.js';
import { rawIterateLog } from './write.js';
const dir = process.argv[2]!;
for (let i = 0; i < 5; i++) {
  let c = process.cpuUsage(); let t = performance.now();
  const rate = await rawIterateLog(dir);
  let d = process.cpuUsage(c); const rawc = (d.user + d.system) / 1000, rawt = performance.now() - t;
  c = process.cpuUsage(); t = performance.now();
  const log = await openClassic(dir, { anchor: false, verify: 'none' });
  d = process.cpuUsage(c); const openc = (d.user + d.system) / 1000, opent = performance.now() - t;
  c = process.cpuUsage(); t = performance.now();
  const f = await replay(log, { fromScratch: true });
  d = process.cpuUsage(c); const repc = (d.user + d.system) / 1000, rept = performance.now() - t;
  c = process.cpuUsage(); t = performance.now();
  await log.close();
  d = process.cpuUsage(c);
  console.log(`raw ${rawt.toFixed(0)}ms cpu ${rawc.toFixed(0)} (${Math.round(rate)}/s); open ${opent.toFixed(0)}ms cpu ${openc.toFixed(0)}; replay ${rept.toFixed(0)}ms cpu ${repc.toFixed(0)}; close cpu ${((d.user + d.system) / 1000).toFixed(0)}; seq ${f.seq}`);
}
