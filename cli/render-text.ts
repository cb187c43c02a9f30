// The graph as text, for `show` and `demo`: each process, its nodes (driver, ro, file,
// AioContext) and its edges with permissions, frozen links marked.
import { Draft } from '../graph/draft.js';
import { permLetters } from '../graph/perm.js';
import { Proc } from '../graph/proc.js';
import { HOST, type State } from '../graph/types.js';

const perms = permLetters;

export function renderText(state: State): string {
  const d = new Draft(state);
  const out: string[] = [];
  const procs = d.scopes().filter((s) => s !== HOST);
  const imgs = d.ids(HOST, 'images').sort();
  if (imgs.length) out.push(`images: ${imgs.join(', ')}`);
  if (!procs.length) out.push('(no processes)');
  for (const s of procs) {
    const p = new Proc(d, s);
    out.push(`process ${s}:`);
    for (const n of p.nodes()) {
      out.push(`  node ${n.name}  ${n.driver}${n.ro ? ' ro' : ''}${n.filename ? ` file=${n.filename}` : ''}${n.aio !== 'main' ? ` aio=${n.aio}` : ''}${n.monitor ? '' : ' (implicit)'}`);
    }
    const label = (e: ReturnType<Proc['edges']>[number]) =>
      e.parent.kind === 'node' ? e.parent.node : e.parent.kind === 'bb' ? `bb(${p.bb(e.parent.bb)?.owner.kind ?? '?'}:${p.bb(e.parent.bb)?.owner.id ?? '?'})` : `job ${e.parent.job}`;
    for (const e of p.edges()) {
      out.push(`  ${label(e)} -[${e.name}]-> ${e.child}  ${perms(e.perm)}/${perms(e.shared)}${e.frozen ? '  FROZEN' : ''}`);
    }
    for (const j of p.jobs()) out.push(`  job ${j.id} ${j.type} ${j.status}`);
    for (const x of p.exports()) out.push(`  export ${x.id} on ${x.node}${x.writable ? ' writable' : ''}`);
  }
  return out.join('\n');
}
