// Generated-scenario batch for scripts/probe-batch.ts (issue 12, part 1): writes N scenarios
// into DIR from SEED; record and compare them with
//   node scripts/probe/gen-raw-slices.mjs DIR SEED N && node --import tsx scripts/probe-batch.ts DIR
import { writeFileSync } from 'node:fs';
const out = process.argv[2]; let seed = Number(process.argv[3] ?? 1); const N = Number(process.argv[4] ?? 40);
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (n) => Math.floor(rnd() * n);
for (let s = 0; s < N; s++) {
  const rawSize = pick([512, 1000, 4096, 5000, 65536, 1048576, 1048577]);
  const qs = pick(['1M', '16M', '1G', '3G']); const cs = pick([512, 4096, 65536, 2097152]);
  const imgs = [{ file: 'x.raw', format: 'raw', size: String(rawSize) }, { file: 'y.qcow2', format: 'qcow2', size: qs, options: `cluster_size=${cs}` }];
  const fileLen = (f) => f === 'x.raw' ? Math.ceil(rawSize / 512) * 512 : 200000;
  const near = (L) => pick([0, 512, L, L - 512, L + 1, L - 1, int(L + 1000), L - (L % 512), 4096, 3 * cs, 3 * cs + 8, 3 * cs + 512]);
  const steps = [];
  const f = pick(['x.raw', 'y.qcow2']);
  steps.push({ execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f', filename: f, 'read-only': true } });
  for (let k = 0; k < 4; k++) {
    const L = fileLen(f);
    const a = { driver: 'raw', 'node-name': `r${k}`, 'read-only': true, file: 'f' };
    if (rnd() < 0.7) a.offset = Math.max(0, near(L));
    if (rnd() < 0.6) a.size = Math.max(0, near(L) - (rnd() < 0.5 ? (a.offset ?? 0) : 0));
    steps.push({ execute: 'blockdev-add', arguments: a });
  }
  // nested slice over r0 (if it exists) and reopens of r0
  steps.push({ execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'rr', 'read-only': true, offset: pick([0, 512, 1024, 4096]), file: 'r0' } });
  for (let k = 0; k < 3; k++) {
    const o = { driver: 'raw', 'node-name': 'r0', 'read-only': true, file: 'f' };
    if (rnd() < 0.6) o.offset = Math.max(0, near(fileLen(f)));
    if (rnd() < 0.5) o.size = Math.max(0, near(fileLen(f)) - (o.offset ?? 0));
    steps.push({ execute: 'blockdev-reopen', arguments: { options: [o] } });
  }
  steps.push({ execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'q', 'read-only': true, file: 'r0', ...(rnd() < 0.5 ? { 'l2-cache-entry-size': pick([512, 1024, 4096, 65536, 131072]) } : {}) } });
  writeFileSync(`${out}/w${String(s).padStart(3, '0')}.json`, JSON.stringify({ name: `w${s}`, description: 'generated', covers: ['add-del'], images: imgs, steps }, null, 1));
}
