// Stop 34 (issue 12, round 2): blockdev-create of every format the model writes, end to end:
// a new host file (blockdev-create file), a file node over it, blockdev-create FORMAT onto that
// node with the format's own options (valid and refused ones: sizes, cluster sizes, table sizes,
// versions, refcount widths, subformats, backing options), the job waited for and dismissed, then
// the created image opened as that format (which shows what the job wrote, or its open error when
// the job failed). Stop 33 drew blockdev-create of file, qcow2 and qed only.
// Not drawn: vhdx and luks (blockdev-create of them is not modelled), qcow2's data-file and
// encrypt and qcow's encrypt (not modelled: they need a second node or a secret object).
import type { Json, JsonObject, Step } from '../../format.js';
import type { Generator } from '../grammar.js';
import { cmd, type Production } from '../production.js';
import type { ProcView } from '../world.js';

const FORMATS = ['qcow2', 'qcow2', 'qed', 'vdi', 'vpc', 'parallels', 'qcow', 'vmdk', 'vmdk'] as const;
type Fmt = typeof FORMATS[number];

/** Sizes: ordinary, not sector-aligned, zero, one past a format's limit (vdi, vpc, parallels). */
const SIZES = [16777216, 16777216, 1048576, 1000, 0, 33554432, 2199023255552, 137438953472];

function formatOptions(g: Generator, fmt: Fmt, file: Json): JsonObject {
  const r = g.rng;
  const o: JsonObject = { driver: fmt, file, size: r.pick(SIZES) };
  const maybe = (p: number, k: string, vs: Json[]) => { if (r.chance(p)) o[k] = r.pick(vs); };
  switch (fmt) {
    case 'qcow2':
      maybe(0.3, 'cluster-size', [65536, 4096, 512, 2097152, 1000, 256, 4194304]);
      maybe(0.25, 'refcount-bits', [1, 2, 8, 16, 64, 3, 128, 0]);
      maybe(0.25, 'version', ['v2', 'v3']);
      maybe(0.2, 'extended-l2', [true, false]);
      maybe(0.15, 'lazy-refcounts', [true, false]);
      maybe(0.15, 'compression-type', ['zlib', 'zstd']);
      maybe(0.15, 'preallocation', ['off', 'metadata', 'falloc', 'full']);
      maybe(0.2, 'backing-file', ['base.qcow2', 'nosuch.qcow2', 'r.raw']);
      maybe(0.1, 'backing-fmt', ['qcow2', 'raw']);
      break;
    case 'qed':
      maybe(0.3, 'cluster-size', [65536, 4096, 1000, 134217728]);
      maybe(0.25, 'table-size', [4, 16, 3, 32]);
      maybe(0.2, 'backing-file', ['base.qcow2', 'r.raw']);
      maybe(0.1, 'backing-fmt', ['qcow2', 'raw']);
      break;
    case 'vdi':
      maybe(0.3, 'preallocation', ['off', 'metadata', 'full']);
      break;
    case 'vpc':
      maybe(0.3, 'subformat', ['dynamic', 'fixed']);
      maybe(0.3, 'force-size', [true, false]);
      break;
    case 'parallels':
      maybe(0.35, 'cluster-size', [1048576, 4096, 1000, 65536]);
      break;
    case 'qcow':
      maybe(0.25, 'backing-file', ['base.qcow2', 'v.qcow', 'nosuch.qcow']);
      break;
    case 'vmdk':
      maybe(0.35, 'subformat', ['monolithicSparse', 'streamOptimized', 'monolithicFlat', 'twoGbMaxExtentSparse']);
      maybe(0.2, 'adapter-type', ['ide', 'lsilogic', 'buslogic', 'legacyESX']);
      maybe(0.15, 'hwversion', ['4', '6', 'undefined']);
      maybe(0.1, 'toolsversion', ['2147483647']);
      maybe(0.15, 'zeroed-grain', [true, false]);
      maybe(0.1, 'backing-file', ['v.vmdk', 'base.qcow2']);
      break;
  }
  // preallocation writes (or fallocates) the whole image, metadata its tables: only small ones
  if (o.preallocation !== undefined && o.preallocation !== 'off' && Number(o.size) > 16777216) o.size = 16777216;
  return o;
}

/** The whole sequence: the file, its node, the format's create, the open of what it wrote. */
export const createFormat: Production = (g, p, proc) => {
  const r = g.rng;
  if (g.inSeq()) return undefined;
  const fmt = r.pick(FORMATS);
  const file = `${g.fresh('img', p)}.${fmt}`;
  const fnode = g.fresh('f', p);
  const c1 = g.fresh('c', p); const c2 = g.fresh('c', p);
  const w = (job: string): Step => (proc === 'A' ? { wait: { job, status: 'concluded' } } : { proc, wait: { job, status: 'concluded' } });
  const steps: Step[] = [
    cmd(proc, 'blockdev-create', { 'job-id': c1, options: { driver: 'file', filename: file, size: 0 } }), w(c1),
    cmd(proc, 'job-dismiss', { id: c1 }),
    cmd(proc, 'blockdev-add', { driver: 'file', 'node-name': fnode, filename: file }),
    // mostly the file node by name; sometimes a node already there (a format over bytes in use)
    cmd(proc, 'blockdev-create', { 'job-id': c2, options: formatOptions(g, fmt, r.chance(0.9) ? fnode : g.ref(p)) }), w(c2),
    cmd(proc, r.chance(0.5) ? 'job-dismiss' : 'block-job-dismiss', { id: c2 }),
  ];
  const open: JsonObject = { driver: fmt, 'node-name': g.fresh('n', p), file: fnode };
  if ((fmt === 'qcow2' || fmt === 'qed' || fmt === 'qcow') && r.chance(0.5)) open.backing = null;
  if (r.chance(0.15)) open['read-only'] = true;
  steps.push(cmd(proc, 'blockdev-add', open));
  return g.seq(steps);
};

/** An image created above, or the format's own fuzz image, opened over a file node already there. */
const reopenCreated = (g: Generator, p: ProcView, proc: string): Step | undefined => {
  const created = p.named().filter((n) => p.driver(n) === 'file' && /^img\d+\./.test(String(p.options.get(n)?.filename ?? '')));
  if (!created.length) return undefined;
  const f = g.rng.pick(created);
  const fmt = String(p.options.get(f)!.filename).split('.').pop()!;
  return cmd(proc, 'blockdev-add', { driver: g.rng.chance(0.8) ? fmt : g.rng.pick(['qcow2', 'raw', 'vmdk', 'vpc']), 'node-name': g.fresh('n', p), file: f, ...(g.rng.chance(0.3) ? { 'read-only': true } : {}) });
};

export const CREATE_FORMATS: [Production, number][] = [[createFormat, 6], [reopenCreated, 2]];
