// The graph as Graphviz DOT, for `blockgraph render` and the HTML report. Pure over a
// State. Shapes: BDS nodes are boxes, BlockBackends ellipses, jobs hexagons; an edge runs
// parent -> child labelled "name\nperm/shared" (QEMU's perm letters R W U Z, "-" for none);
// frozen links are bold blue and say "frozen"; a job's links are dashed; read-only nodes are
// grey with "(ro)"; each process is a cluster and, inside it, each AioContext is a cluster
// of its own.
import { bitmapSummary } from '../graph/bitmaps.js';
import { Draft } from '../graph/draft.js';
import { Proc } from '../graph/proc.js';
import { HOST, type ParentRef, type State } from '../graph/types.js';
import { permText } from './diff.js';
import { blockBackendName } from './names.js';

export interface DotOptions {
  /** Only this process (default: every process). */
  proc?: string;
  /** Graph title (shown as the graph label). */
  title?: string;
  /** Draw a key to the picture's marks (perm/shared halves, frozen, read-only, shapes). */
  legend?: boolean;
  /**
   * Only these nodes ("PROC:NODE", outlined bold) and what is one link away from them (nodes,
   * BlockBackends, jobs): the picture of what one transaction touched, readable however big
   * the graph is.
   */
  focus?: string[];
}

/** The key, as a Graphviz HTML-like label (the one label that is not a quoted string). */
export const LEGEND_ROWS: [string, string][] = [
  ['edge label', 'child name, then perm/shared: what the parent takes / what it lets others take'],
  ['R W U Z', 'consistent-read, write, write-unchanged, resize ("-": none)'],
  ['bold blue edge', 'frozen link: a job froze it; reopen, replace and detach refuse it'],
  ['grey box (ro)', 'read-only node'],
  ['dashed edge', "a job's own link (bookkeeping, no I/O); dotted: the job owns the BlockBackend"],
  ['box / ellipse / hexagon', 'node / BlockBackend blk(owner) / job'],
  ['dashed frame', 'an AioContext (main or an iothread)'],
];

const htmlEsc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function legendLine(): string {
  const rows = LEGEND_ROWS.map(([k, v]) => `<TR><TD ALIGN="LEFT"><B>${htmlEsc(k)}</B></TD><TD ALIGN="LEFT">${htmlEsc(v)}</TD></TR>`).join('');
  return `  "legend" [shape="plaintext", fontsize="9", label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3"><TR><TD COLSPAN="2"><B>legend</B></TD></TR>${rows}</TABLE>>];`;
}

/** DOT ids: always quoted, with quotes and backslashes escaped. */
export const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export const dotId = {
  node: (proc: string, name: string) => `${proc}/node/${name}`,
  bb: (proc: string, id: string) => `${proc}/bb/${id}`,
  job: (proc: string, id: string) => `${proc}/job/${id}`,
};

const parentId = (proc: string, p: ParentRef) =>
  p.kind === 'node' ? dotId.node(proc, p.node) : p.kind === 'bb' ? dotId.bb(proc, p.bb) : dotId.job(proc, p.job);

const attrs = (a: Record<string, string>) => `[${Object.entries(a).map(([k, v]) => `${k}=${q(v)}`).join(', ')}]`;

export function renderDot(state: State, opts: DotOptions = {}): string {
  const d = new Draft(state);
  const procs = d.scopes().filter((s) => s !== HOST && (!opts.proc || s === opts.proc));
  const out: string[] = [
    'digraph blockgraph {',
    '  graph [rankdir="TB", fontname="Helvetica", fontsize="11", compound="true"' + (opts.title ? `, label=${q(opts.title)}, labelloc="t"` : '') + '];',
    '  node [fontname="Helvetica", fontsize="10"];',
    '  edge [fontname="Helvetica", fontsize="9"];',
  ];
  if (!procs.length) out.push(`  ${q('empty')} ${attrs({ shape: 'plaintext', label: opts.proc ? `(no process ${opts.proc})` : '(no processes)' })};`);
  const focus = opts.focus ? new Set(opts.focus) : undefined;
  for (const proc of procs) {
    const p = new Proc(d, proc);
    // With a focus: the focused nodes, their node neighbours, and every parent (BlockBackend, job) of those.
    let keep: ((ref: string) => boolean) | undefined;
    if (focus) {
      const kept = new Set<string>();
      const key = (pr: ParentRef) => (pr.kind === 'node' ? `node:${pr.node}` : pr.kind === 'bb' ? `bb:${pr.bb}` : `job:${pr.job}`);
      for (const f of focus) if (f.startsWith(`${proc}:`)) kept.add(`node:${f.slice(proc.length + 1)}`);
      const centre = new Set(kept);
      for (const e of p.edges()) {
        if (centre.has(`node:${e.child}`)) kept.add(key(e.parent));
        if (e.parent.kind === 'node' && centre.has(`node:${e.parent.node}`)) kept.add(`node:${e.child}`);
      }
      for (const e of p.edges()) if (kept.has(`node:${e.child}`) && e.parent.kind !== 'node') kept.add(key(e.parent));
      if (!kept.size) continue;
      keep = (ref) => kept.has(ref);
    }
    out.push(`  subgraph ${q(`cluster_${proc}`)} {`, `    label=${q(`process ${proc}`)}; style="rounded"; color="#888888";`);
    // Everything placed by AioContext: nodes, BlockBackends and jobs all live in one.
    const byCtx = new Map<string, string[]>();
    const place = (ctx: string, line: string) => {
      if (!byCtx.has(ctx)) byCtx.set(ctx, []);
      byCtx.get(ctx)!.push(line);
    };
    for (const n of p.nodes()) {
      if (keep && !keep(`node:${n.name}`)) continue;
      const lines = [n.name, `${n.driver}${n.ro ? ' (ro)' : ''}`];
      if (n.filename && n.driver === 'file') lines.push(n.filename);
      for (const b of n.bitmaps ?? []) lines.push(`bitmap ${bitmapSummary(b)}`);
      const a: Record<string, string> = { shape: 'box', label: lines.join('\n') };
      if (n.ro) Object.assign(a, { style: 'filled', fillcolor: '#e4e4e4', color: '#777777' });
      if (!n.monitor && n.auto) a.fontcolor = '#555555';
      if (focus?.has(`${proc}:${n.name}`)) a.penwidth = '2.5';
      place(n.aio || 'main', `${q(dotId.node(proc, n.name))} ${attrs(a)};`);
    }
    for (const b of p.bbs()) {
      if (keep && !keep(`bb:${b.id}`)) continue;
      place(b.aio || 'main', `${q(dotId.bb(proc, b.id))} ${attrs({ shape: 'ellipse', label: `BlockBackend\n${blockBackendName(b.owner, b.id)}` })};`);
    }
    for (const j of p.jobs()) {
      if (keep && !keep(`job:${j.id}`)) continue;
      place(j.aio ?? 'main', `${q(dotId.job(proc, j.id))} ${attrs({ shape: 'hexagon', style: 'filled', fillcolor: '#fff3c4', label: `job ${j.id}\n${j.type} ${j.status}` })};`);
    }
    for (const ctx of [...byCtx.keys()].sort((x, y) => (x === 'main' ? -1 : y === 'main' ? 1 : x < y ? -1 : 1))) {
      out.push(`    subgraph ${q(`cluster_${proc}_aio_${ctx}`)} {`, `      label=${q(`AioContext ${ctx}`)}; style="dashed"; color="#aaaaaa";`);
      for (const line of byCtx.get(ctx)!) out.push(`      ${line}`);
      out.push('    }');
    }
    for (const e of p.edges()) {
      if (keep && !(keep(`node:${e.child}`) && keep(e.parent.kind === 'node' ? `node:${e.parent.node}` : e.parent.kind === 'bb' ? `bb:${e.parent.bb}` : `job:${e.parent.job}`))) continue;
      const a: Record<string, string> = { label: `${e.name}\n${permText(e.perm)}/${permText(e.shared)}${e.frozen ? '\nfrozen' : ''}` };
      // A job's own children (main/active/intermediate node) are bookkeeping, not I/O paths: dashed.
      if (e.parent.kind === 'job') Object.assign(a, { color: '#9a7b00', fontcolor: '#9a7b00', style: 'dashed' });
      if (e.frozen) Object.assign(a, { color: '#1f5fbf', fontcolor: '#1f5fbf', penwidth: '2.5', style: 'bold' });
      out.push(`    ${q(parentId(proc, e.parent))} -> ${q(dotId.node(proc, e.child))} ${attrs(a)};`);
    }
    // A job's or export's BlockBackend belongs to it: drawn as a dotted "owns" link.
    for (const b of p.bbs()) {
      if (b.owner.kind === 'job' && p.job(b.owner.id) && (!keep || (keep(`bb:${b.id}`) && keep(`job:${b.owner.id}`)))) {
        out.push(`    ${q(dotId.job(proc, b.owner.id))} -> ${q(dotId.bb(proc, b.id))} ${attrs({ style: 'dotted', arrowhead: 'none', label: 'owns' })};`);
      }
    }
    out.push('  }');
  }
  if (opts.legend) out.push(legendLine());
  out.push('}');
  return out.join('\n') + '\n';
}
