// The graph as text, for `show` and `demo`: each process, its nodes (driver, ro, file,
// AioContext) and its edges with permissions, frozen links marked; and one node or its
// backing chain (`show --node`, `show --chain`) laid out as `qemu-img info --backing-chain`.
import { bitmapSummary } from '../graph/bitmaps.js';
import { Draft } from '../graph/draft.js';
import { permLetters } from '../graph/perm.js';
import { Proc } from '../graph/proc.js';
import { HOST, type State } from '../graph/types.js';
import { edgeLabel } from '../replay/audit.js';
import type { NodeView } from '../replay/chain.js';
import { namerOfState } from '../replay/names.js';

const perms = permLetters;

/** The key printed under every text picture. */
export const TEXT_LEGEND = 'key: perm/shared = what the parent takes / what it lets others take; R consistent-read, W write, U write-unchanged, Z resize, - none; FROZEN = a job froze the link; ro = read-only; blk(OWNER) = the BlockBackend of an export or job';

export function renderText(state: State, opts: { legend?: boolean } = {}): string {
  const d = new Draft(state);
  const out: string[] = [];
  const procs = d.scopes().filter((s) => s !== HOST);
  const imgs = d.ids(HOST, 'images').sort();
  if (imgs.length) out.push(`images: ${imgs.join(', ')}`);
  if (!procs.length) out.push('(no processes)');
  const namer = namerOfState(state);
  for (const s of procs) {
    const p = new Proc(d, s);
    out.push(`process ${s}:`);
    for (const n of p.nodes()) {
      out.push(`  node ${n.name}  ${n.driver}${n.ro ? ' ro' : ''}${n.filename ? ` file=${n.filename}` : ''}${n.aio !== 'main' ? ` aio=${n.aio}` : ''}${n.monitor ? '' : ' (implicit)'}`);
    }
    // dirty bitmaps (graph/bitmaps.ts), each node's newest first as QEMU lists them
    for (const n of p.nodes()) for (const b of n.bitmaps ?? []) out.push(`  bitmap ${n.name}/${bitmapSummary(b)}`);
    for (const e of p.edges()) {
      out.push(`  ${edgeLabel(e, s, namer)}  ${perms(e.perm)}/${perms(e.shared)}${e.frozen ? '  FROZEN' : ''}`);
    }
    for (const j of p.jobs()) out.push(`  job ${j.id} ${j.type} ${j.status}`);
    for (const x of p.exports()) out.push(`  export ${x.id} on ${x.node}${x.writable ? ' writable' : ''} (${namer(s, x.bb)})`);
  }
  if (opts.legend && procs.length) out.push('', TEXT_LEGEND);
  return out.join('\n');
}

/** Bytes as qemu-img prints a size: "64 MiB (67108864 bytes)". */
export function sizeText(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  const num = i === 0 ? String(n) : String(Number(v.toFixed(3)));
  return i === 0 ? `${n} bytes` : `${num} ${units[i]} (${n} bytes)`;
}

export function nodeText(v: NodeView): string {
  const lines = [`node: ${v.name}${v.implicit ? ' (implicit)' : ''}`, `format: ${v.format}`];
  if (v.file) lines.push(`file: ${v.file.filename || '(none)'} (node ${v.file.node}, ${v.file.driver}${v.file.frozen ? ', link FROZEN' : ''})`);
  else if (v.filename) lines.push(`file: ${v.filename}`);
  lines.push(`virtual size: ${sizeText(v.virtualSize)}`);
  if (v.image) {
    lines.push(`image: ${v.image.format} in the host catalogue${v.image.clusterSize ? `, cluster_size ${v.image.clusterSize}` : ''}`);
    if (v.image.backing) lines.push(`backing file (header): ${v.image.backing}${v.image.backingFormat ? ` (format ${v.image.backingFormat})` : ''}`);
  }
  lines.push(`read-only: ${v.readOnly ? 'yes' : 'no'}`);
  lines.push(`AioContext: ${v.aio}`);
  if (v.next) lines.push(`${v.next.kind === 'backing' ? 'backing' : 'filtered child'}: ${v.next.node} (link '${v.next.edge}'${v.next.frozen ? ', FROZEN' : ''})`);
  else lines.push('backing: none (end of chain)');
  lines.push(`jobs: ${v.jobs.length ? v.jobs.map((j) => `${j.id} (${j.type} ${j.status}, as ${j.role})`).join('; ') : 'none'}`);
  if (v.exports.length) lines.push(`exports: ${v.exports.map((x) => `${x.id}${x.writable ? ' writable' : ''}`).join(', ')}`);
  const links = (title: string, xs: NodeView['parents']) => {
    if (!xs.length) return;
    lines.push(`${title}:`);
    for (const e of xs) lines.push(`    ${e.label}  ${e.perm}/${e.shared}${e.frozen ? '  FROZEN' : ''}`);
  };
  links('parents', v.parents);
  links('children', v.children);
  return lines.map((l, i) => (i === 0 ? l : `  ${l}`)).join('\n');
}

/** Each node of a chain, top first, as qemu-img info --backing-chain separates images. */
export function chainText(chain: NodeView[]): string {
  return chain.map(nodeText).join('\n\n');
}
