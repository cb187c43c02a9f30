// Generated-scenario batch for scripts/probe-batch.ts (issue 12, part 1): writes N scenarios
// into DIR from SEED; record and compare them with
//   node scripts/probe/gen-inline-reopen.mjs DIR SEED N && node --import tsx scripts/probe-batch.ts DIR
import { writeFileSync } from 'node:fs';
const out = process.argv[2]; let seed = Number(process.argv[3] ?? 1); const N = Number(process.argv[4] ?? 60);
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const clone = (x) => JSON.parse(JSON.stringify(x));
for (let s = 0; s < N; s++) {
  const withHdr = rnd() < 0.4;
  const imgs = withHdr ? [
    { file: 'hd2.qcow2', format: 'qcow2', size: '1M' },
    { file: 'hd1.qcow2', format: 'qcow2', size: '1M', backing: 'hd2.qcow2', 'backing-format': 'qcow2' },
    { file: 'hd0.qcow2', format: 'qcow2', size: '1M', backing: 'hd1.qcow2', 'backing-format': 'qcow2' },
  ] : [0, 1, 2].map((i) => ({ file: `hd${i}.qcow2`, format: 'qcow2', size: '1M' }));
  const depth = 1 + Math.floor(rnd() * 3);
  const extras = () => { const e = {}; if (rnd() < 0.2) e['read-only'] = pick([true, false]); if (rnd() < 0.15) e.cache = { 'no-flush': pick([true, false]) }; if (rnd() < 0.15) e.discard = pick(['unmap', 'ignore']); if (rnd() < 0.1) e['lazy-refcounts'] = pick([true, false]); return e; };
  const mk = (i) => {
    const n = { driver: 'qcow2' };
    if (i === 0 || rnd() < 0.6) n['node-name'] = `hd${i}`;
    n.file = { driver: 'file', filename: `hd${i}.qcow2` };
    if (rnd() < 0.5) n.file['node-name'] = `f${i}`;
    if (rnd() < 0.1) n.file.locking = 'off';
    Object.assign(n, extras());
    if (i + 1 < depth) n.backing = mk(i + 1);
    else if (i < 2 && (!withHdr || rnd() < 0.5)) n.backing = null;
    return n;
  };
  const add = mk(0);
  const steps = [{ execute: 'blockdev-add', arguments: add }];
  const mutate = (n, i) => {
    const c = clone(n);
    const r = rnd();
    if (r < 0.35) return c;
    const walk = (x) => { if (x && typeof x === 'object' && x.backing && typeof x.backing === 'object' && rnd() < 0.5) return walk(x.backing); return x; };
    const t = walk(c);
    const op = pick(['ro', 'drop-backing', 'backing-null', 'backing-ref', 'file-ref', 'nodename', 'driver', 'cache', 'lazy', 'drop-file-name', 'add-opt', 'drop-ro']);
    if (op === 'ro') t['read-only'] = pick([true, false]);
    else if (op === 'drop-backing') delete t.backing;
    else if (op === 'backing-null') t.backing = null;
    else if (op === 'backing-ref') t.backing = t.backing && typeof t.backing === 'object' && t.backing['node-name'] ? t.backing['node-name'] : pick(['hd1', 'hd2', 'hdX']);
    else if (op === 'file-ref') t.file = t.file && t.file['node-name'] ? t.file['node-name'] : pick(['f0', 'f1', 'f2']);
    else if (op === 'nodename') { if (t.file && typeof t.file === 'object') t.file['node-name'] = pick(['f0', 'zz', undefined]); }
    else if (op === 'driver') { if (t.backing && typeof t.backing === 'object') t.backing.driver = 'raw'; }
    else if (op === 'cache') t.cache = { 'no-flush': pick([true, false]), direct: false };
    else if (op === 'lazy') t['lazy-refcounts'] = pick([true, false]);
    else if (op === 'drop-file-name') { if (t.file && typeof t.file === 'object') delete t.file['node-name']; }
    else if (op === 'add-opt') t['cache-clean-interval'] = pick([0, 600]);
    else if (op === 'drop-ro') delete t['read-only'];
    return c;
  };
  for (let k = 0; k < 4; k++) {
    if (rnd() < 0.25 && depth > 1) {
      // list reopen: the top plus an inner named node given on its own
      const inner = add.backing && add.backing['node-name'] ? (({ backing, ...r }) => ({ ...r, backing: backing === undefined ? undefined : (typeof backing === 'object' && backing !== null ? (backing['node-name'] ?? backing) : backing) }))(clone(add.backing)) : null;
      const list = [mutate(add, 0)];
      if (inner) { if (inner.backing === undefined) delete inner.backing; list.push(inner); if (rnd() < 0.5) list.reverse(); }
      steps.push({ execute: 'blockdev-reopen', arguments: { options: list } });
    } else steps.push({ execute: 'blockdev-reopen', arguments: { options: [mutate(add, 0)] } });
  }
  writeFileSync(`${out}/r${String(s).padStart(3, '0')}.json`, JSON.stringify({ name: `r${s}`, description: 'generated', covers: ['reopen'], images: imgs, steps }, null, 1));
}
