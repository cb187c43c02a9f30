// Generated-scenario batch for scripts/probe-batch.ts (issue 12, part 1): writes N scenarios
// into DIR from SEED; record and compare them with
//   node scripts/probe/gen-mixed.mjs DIR SEED N && node --import tsx scripts/probe-batch.ts DIR
import { writeFileSync } from 'node:fs';
const out = process.argv[2]; let seed = Number(process.argv[3] ?? 1); const N = Number(process.argv[4] ?? 60);
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const clone = (x) => JSON.parse(JSON.stringify(x));
for (let s = 0; s < N; s++) {
  const hdr = rnd() < 0.4;
  const imgs = [
    { file: 'hd2.qcow2', format: 'qcow2', size: '1M' },
    hdr ? { file: 'hd1.qcow2', format: 'qcow2', size: '1M', backing: 'hd2.qcow2', 'backing-format': 'qcow2' } : { file: 'hd1.qcow2', format: 'qcow2', size: '1M' },
    hdr ? { file: 'hd0.qcow2', format: 'qcow2', size: '1M', backing: 'hd1.qcow2', 'backing-format': 'qcow2' } : { file: 'hd0.qcow2', format: 'qcow2', size: '1M' },
    { file: 'x.raw', format: 'raw', size: '1M' }, { file: 'cfg', format: 'raw', size: '0' },
  ];
  let nameN = 0;
  const nm = (o, p) => { if (rnd() < 0.6) o['node-name'] = `${p}${nameN++}`; return o; };
  const fileOf = (i) => {
    const base = nm({ driver: 'file', filename: `hd${i}.qcow2` }, 'f');
    const r = rnd();
    if (r < 0.15) return nm({ driver: 'blkdebug', image: base, ...(rnd() < 0.3 ? { config: 'cfg' } : {}), ...(rnd() < 0.2 ? { align: pick([512, 1000, 4096]) } : {}) }, 'd');
    if (r < 0.25) return nm({ driver: 'throttle', 'throttle-group': 'tg', file: base }, 't');
    if (r < 0.35) return nm({ driver: 'raw', file: base, ...(rnd() < 0.3 ? { offset: pick([0, 512]) } : {}) }, 'r');
    return base;
  };
  const fmt = (i, depth) => {
    const o = nm({ driver: 'qcow2', file: fileOf(i) }, 'q');
    if (rnd() < 0.15) o['cache-clean-interval'] = pick([0, 600, 4294967296]);
    if (rnd() < 0.1) o['l2-cache-entry-size'] = pick([512, 1000, 65536]);
    if (i < 2 && depth > 0) {
      let b = fmt(i + 1, depth - 1);
      if (rnd() < 0.2) b = nm({ driver: pick(['throttle', 'copy-on-read']), ...(rnd() < 0.5 ? { 'throttle-group': 'tg' } : {}), file: b }, 'b');
      if (b.driver === 'copy-on-read') delete b['throttle-group']; else if (b.driver === 'throttle') b['throttle-group'] = 'tg';
      o.backing = b;
    } else if (i < 2 && rnd() < 0.6) o.backing = null;
    return o;
  };
  const top = fmt(0, 1 + Math.floor(rnd() * 2));
  top['node-name'] = 'top';
  const steps = [{ execute: 'object-add', arguments: { 'qom-type': 'throttle-group', id: 'tg' } }, { execute: 'blockdev-add', arguments: top }];
  const names = [];
  JSON.stringify(top, (k, v) => { if (k === 'node-name') names.push(v); return v; });
  const mutate = () => {
    const c = clone(top);
    const nodes = []; const walk = (o) => { if (o && typeof o === 'object') { nodes.push(o); for (const v of Object.values(o)) walk(v); } }; walk(c);
    const t = pick(nodes.filter((o) => o.driver));
    const r = rnd();
    if (r < 0.2) return c;
    if (r < 0.3) { delete t['cache-clean-interval']; delete t.offset; delete t.config; }
    else if (r < 0.4 && t.driver === 'raw') t.offset = pick([0, 512, 2000000]);
    else if (r < 0.5 && t.driver === 'raw') t.size = pick([512, 1000, 65536]);
    else if (r < 0.55 && t.driver === 'blkdebug') t.config = 'cfg';
    else if (r < 0.6 && t.driver === 'qcow2') t['cache-clean-interval'] = pick([0, 4294967296]);
    else if (r < 0.7 && t.backing && typeof t.backing === 'object') t.backing = t.backing['node-name'] ?? null;
    else if (r < 0.8 && t.file && typeof t.file === 'object' && t.file['node-name']) t.file = t.file['node-name'];
    else if (r < 0.85) t['read-only'] = pick([true, false]);
    else if (r < 0.9 && t.driver === 'qcow2') t.backing = pick([null, ...names]);
    else if (t.file && typeof t.file === 'object') t.file['node-name'] = 'zz';
    return c;
  };
  for (let k = 0; k < 4; k++) {
    const o = mutate();
    const list = [o];
    if (rnd() < 0.2 && names.length) {
      // an inner named node listed too, with its children as references
      const inner = []; const walk = (x) => { if (x && typeof x === 'object') { if (x !== o && x.driver && x['node-name']) inner.push(x); for (const v of Object.values(x)) walk(v); } }; walk(o);
      if (inner.length) { const i = clone(pick(inner)); for (const key of ['file', 'backing', 'image']) if (i[key] && typeof i[key] === 'object') { if (i[key]['node-name']) i[key] = i[key]['node-name']; else delete i[key]; } if (i.driver !== 'file') list.push(i); }
    }
    steps.push({ execute: 'blockdev-reopen', arguments: { options: list } });
  }
  writeFileSync(`${out}/m${String(s).padStart(3, '0')}.json`, JSON.stringify({ name: `m${s}`, description: 'generated', covers: ['reopen'], images: imgs, steps }, null, 1));
}
