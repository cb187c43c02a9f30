// Generated-scenario batch for scripts/probe-batch.ts (issue 12, part 1): writes N scenarios
// into DIR from SEED; record and compare them with
//   node scripts/probe/gen-filenames.mjs DIR SEED N && node --import tsx scripts/probe-batch.ts DIR
import { writeFileSync } from 'node:fs';
const out = process.argv[2]; let seed = Number(process.argv[3] ?? 1); const N = Number(process.argv[4] ?? 60);
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const imgs = [{ file: 'a.qcow2', format: 'qcow2', size: '1M' }, { file: 'b.raw', format: 'raw', size: '1M' }, { file: 'c.raw', format: 'raw', size: '2M' }, { file: 'cfg', format: 'raw', size: '0' }, { file: 'base.qcow2', format: 'qcow2', size: '1M' }, { file: 'top.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' }, { file: 'd.qcow2', format: 'qcow2', size: '2M' }];
for (let s = 0; s < N; s++) {
  const files = ['a.qcow2', 'b.raw', 'c.raw', 'base.qcow2', 'top.qcow2', 'd.qcow2'];
  const used = new Set();
  const leaf = () => {
    if (rnd() < 0.25) { const o = { driver: pick(['null-co', 'null-aio']) }; if (rnd() < 0.4) o.size = pick([1048576, 2097152]); if (rnd() < 0.3) o['read-zeroes'] = pick([true, false]); if (rnd() < 0.2) o['latency-ns'] = 5; return o; }
    const avail = files.filter((f) => !used.has(f)); const f = pick(avail.length ? avail : files); used.add(f);
    return { driver: 'file', filename: f };
  };
  const filt = (depth) => {
    const k = depth <= 0 ? 'leaf' : pick(['leaf', 'leaf', 'blkdebug', 'throttle', 'cor', 'raw']);
    if (k === 'leaf') return leaf();
    const c = filt(depth - 1);
    if (k === 'blkdebug') { const o = { driver: 'blkdebug', image: c }; const r = rnd(); if (r < 0.25) o.config = 'cfg'; else if (r < 0.35) o.align = 512; else if (r < 0.45) o['inject-error'] = [{ event: 'read_aio', errno: 5 }]; else if (r < 0.5) o['max-transfer'] = 65536; return o; }
    if (k === 'throttle') return { driver: 'throttle', 'throttle-group': 'tg', file: c };
    if (k === 'cor') return { driver: 'copy-on-read', file: c };
    const o = { driver: 'raw', file: c }; if (rnd() < 0.3) o.offset = pick([0, 512, 4096]); if (rnd() < 0.2) o.size = pick([512, 65536]); return o;
  };
  const steps = [{ execute: 'object-add', arguments: { 'qom-type': 'throttle-group', id: 'tg' } }];
  const roots = [];
  for (let k = 0; k < 3; k++) {
    const top = pick(['qcow2', 'raw', 'blkdebug', 'filter']);
    const name = `n${k}`;
    let a;
    if (top === 'qcow2') { a = { driver: 'qcow2', 'node-name': name, file: filt(2) }; if (rnd() < 0.3) a.backing = null; }
    else if (top === 'raw') { a = { driver: 'raw', 'node-name': name, file: filt(2) }; if (rnd() < 0.3) a.offset = pick([0, 512]); }
    else if (top === 'blkdebug') { a = { driver: 'blkdebug', 'node-name': name, image: filt(2) }; if (rnd() < 0.3) a.config = 'cfg'; }
    else { a = filt(3); if (a.driver === 'file' || a.driver.startsWith('null')) a = { driver: 'raw', file: a }; a['node-name'] = name; }
    steps.push({ execute: 'blockdev-add', arguments: a });
    roots.push(a);
  }
  // reopen each root with its own options, minus or plus a strong option
  for (const a of roots) {
    const c = JSON.parse(JSON.stringify(a));
    const r = rnd();
    if (c.driver === 'raw') { if (r < 0.4) delete c.offset; else if (r < 0.7) c.offset = pick([0, 512]); else if (r < 0.8) c.size = 512; }
    else if (c.driver === 'blkdebug') { if (r < 0.5) delete c.config; }
    steps.push({ execute: 'blockdev-reopen', arguments: { options: [c] } });
  }
  writeFileSync(`${out}/g${String(s).padStart(3, '0')}.json`, JSON.stringify({ name: `g${s}`, description: 'generated', covers: ['add-del'], images: imgs, steps }, null, 1));
}
