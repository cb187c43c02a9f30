// `blockgraph diff A B`: what changed between two states, per entity and per field, with
// each field change tagged by the aspect a reader asks about (perms, options, locks,
// AioContexts, frozen links, read-only, job status…). Pure over two State values.
import { bitmapSummary, type DirtyBitmap } from '../graph/bitmaps.js';
import { canonicalJson } from '../graph/hash.js';
import { permLetters } from '../graph/perm.js';
import type { Edge, State } from '../graph/types.js';
import { edgeLabel } from './audit.js';
import { namerOfState, type BbNamer } from './names.js';

export type Aspect = 'perms' | 'options' | 'locks' | 'aio' | 'frozen' | 'read-only' | 'status' | 'child' | 'order' | 'other';

export interface FieldChange { path: string; before: unknown; after: unknown; aspect: Aspect }

export interface DiffEntry {
  scope: string;
  kind: string;                 // node, edge, bb, job, export, object, image, meta
  id: string;
  label: string;                // edges: "parent -[name]-> child"; else the id
  change: 'added' | 'removed' | 'changed';
  fields: FieldChange[];        // changed entities only
  text: string[];               // readable lines
}

export interface StateDiff {
  entries: DiffEntry[];
  /** How many entities changed per kind, and how many field changes per aspect. */
  counts: { kinds: Record<string, number>; aspects: Partial<Record<Aspect, number>> };
}

const KIND: Record<string, string> = { nodes: 'node', edges: 'edge', bbs: 'bb', jobs: 'job', objects: 'object', exports: 'export', images: 'image', meta: 'meta', devices: 'device', buses: 'bus' };
// Internal id/name counters: they move on every command and mean nothing to a reader.
const IGNORED: Record<string, string[]> = { meta: ['seq', 'autoName'] };
const COLL_ORDER = ['images', 'objects', 'buses', 'devices', 'nodes', 'edges', 'bbs', 'jobs', 'exports', 'meta'];

export const permText = permLetters;

function aspectOf(coll: string, path: string): Aspect {
  const top = path.split('.')[0]!;
  if ((coll === 'edges' || coll === 'bbs') && (top === 'perm' || top === 'shared')) return 'perms';
  if (coll === 'nodes' && top === 'options') return 'options';
  if (coll === 'nodes' && top === 'lock') return 'locks';
  if (top === 'aio' || top === 'iothread') return 'aio';
  if (coll === 'edges' && top === 'frozen') return 'frozen';
  if (coll === 'edges' && top === 'child') return 'child';
  if (coll === 'nodes' && top === 'ro') return 'read-only';
  if (path === 'at' || path === 'order') return 'order';
  if (coll === 'jobs' && (top === 'status' || top === 'paused' || top === 'cancelled' || top === 'error')) return 'status';
  return 'other';
}

function flatten(v: unknown, prefix: string, out: Map<string, unknown>): void {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, v);
}

export function fieldChanges(coll: string, before: unknown, after: unknown): FieldChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before, '', a);
  flatten(after, '', b);
  const ignored = IGNORED[coll] ?? [];
  const out: FieldChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (ignored.includes(path.split('.')[0]!)) continue;
    if (canonicalJson(a.get(path) ?? null) === canonicalJson(b.get(path) ?? null)) continue;
    out.push({ path, before: a.get(path), after: b.get(path), aspect: aspectOf(coll, path) });
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

function fieldText(coll: string, f: FieldChange): string {
  const isPerm = (coll === 'edges' || coll === 'bbs') && (f.path === 'perm' || f.path === 'shared');
  const isLock = coll === 'nodes' && (f.path === 'lock.perm' || f.path === 'lock.shared');
  // a node's dirty bitmaps as `[name granularity flags, …]` (graph/bitmaps.ts bitmapSummary)
  const isBitmaps = coll === 'nodes' && f.path === 'bitmaps';
  const fmt = (v: unknown) => (isBitmaps ? (Array.isArray(v) ? `[${(v as DirtyBitmap[]).map(bitmapSummary).join(', ')}]` : '[]')
    : (isPerm || isLock) && typeof v === 'number' ? permText(v) : show(v));
  return `${f.path} ${fmt(f.before)} -> ${fmt(f.after)}`;
}

/** One entity's state in a line (for added/removed entities). */
export function entitySummary(coll: string, v: Record<string, any>): string {
  switch (coll) {
    case 'nodes': return `${v.driver}${v.ro ? ' ro' : ''}${v.filename ? ` file=${v.filename}` : ''}${v.aio && v.aio !== 'main' ? ` aio=${v.aio}` : ''}${v.lock ? ` lock=${permText(v.lock.perm)}/${permText(v.lock.shared)}` : ''}`;
    case 'edges': return `${permText(v.perm)}/${permText(v.shared)}${v.frozen ? ' frozen' : ''}`;
    case 'bbs': return `${permText(v.perm)}/${permText(v.shared)}${v.aio && v.aio !== 'main' ? ` aio=${v.aio}` : ''}`;
    case 'jobs': return `${v.type} ${v.status}`;
    case 'exports': return `${v.type} on ${v.node}${v.writable ? ' writable' : ''}`;
    case 'devices': return `${v.driver} on ${v.bus}${v.tray ? (v.tray.open ? ' tray open' : ' tray closed') : ''}`;
    case 'buses': return `${v.type}${v.hotplug ? ' hotplug' : ''}${v.iothread ? ` iothread=${v.iothread}` : ''}`;
    case 'objects': return String(v.qomType);
    case 'images': return `${v.format} ${v.size}${v.backing ? ` backing=${v.backing}` : ''}`;
    default: return '';
  }
}

/** Readable lines for one entity going from `before` to `after` (either may be null/undefined). */
export function describeChange(coll: string, before: unknown, after: unknown): string[] {
  if (before == null && after == null) return [];
  if (before == null) return [`${coll === 'edges' ? 'attached' : 'added'} ${entitySummary(coll, after as Record<string, any>)}`.trim()];
  if (after == null) return [`${coll === 'edges' ? 'detached' : 'removed'} ${entitySummary(coll, before as Record<string, any>)}`.trim()];
  // Attach/name order moves whenever a link is re-pointed: worth a line only when nothing else changed.
  const fs = fieldChanges(coll, before, after);
  const shown = fs.some((f) => f.aspect !== 'order') ? fs.filter((f) => f.aspect !== 'order') : fs;
  return shown.map((f) => fieldText(coll, f));
}

function label(scope: string, coll: string, id: string, v: unknown, bb: BbNamer): string {
  return coll === 'edges' && v ? edgeLabel(v as Edge, scope, bb) : coll === 'bbs' ? bb(scope, id) : id;
}

export function diffStates(a: State, b: State): StateDiff {
  const entries: DiffEntry[] = [];
  const bb = namerOfState(b, a);
  const scopes = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const scope of scopes) {
    const colls = [...new Set([...Object.keys(a[scope] ?? {}), ...Object.keys(b[scope] ?? {})])]
      .sort((x, y) => (COLL_ORDER.indexOf(x) + 1 || 99) - (COLL_ORDER.indexOf(y) + 1 || 99) || (x < y ? -1 : 1));
    for (const coll of colls) {
      const ca = (a[scope]?.[coll] ?? {}) as Record<string, unknown>;
      const cb = (b[scope]?.[coll] ?? {}) as Record<string, unknown>;
      for (const id of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
        const x = ca[id];
        const y = cb[id];
        if (canonicalJson(x ?? null) === canonicalJson(y ?? null)) continue;
        const fields = x !== undefined && y !== undefined ? fieldChanges(coll, x, y) : [];
        if (x !== undefined && y !== undefined && !fields.length) continue; // only ignored counters moved
        entries.push({
          scope, kind: KIND[coll] ?? coll, id, label: label(scope, coll, id, y ?? x, bb),
          change: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
          fields, text: describeChange(coll, x, y),
        });
      }
    }
  }
  const counts: StateDiff['counts'] = { kinds: {}, aspects: {} };
  for (const e of entries) {
    counts.kinds[e.kind] = (counts.kinds[e.kind] ?? 0) + 1;
    for (const f of e.fields) counts.aspects[f.aspect] = (counts.aspects[f.aspect] ?? 0) + 1;
  }
  return { entries, counts };
}

/** The diff as text: per process, "+" added, "-" removed, "~" changed with its fields. */
export function diffText(d: StateDiff): string {
  if (!d.entries.length) return '(no differences)';
  const out: string[] = [];
  let scope = '';
  for (const e of d.entries) {
    if (e.scope !== scope) {
      scope = e.scope;
      out.push(scope === '@host' ? 'host:' : `process ${scope}:`);
    }
    const mark = e.change === 'added' ? '+' : e.change === 'removed' ? '-' : '~';
    if (e.change === 'changed') {
      out.push(`  ${mark} ${e.kind} ${e.label}`);
      for (const t of e.text) out.push(`      ${t}`);
    } else out.push(`  ${mark} ${e.kind} ${e.label}  ${e.text.join('; ').replace(/^(added|removed|attached|detached) ?/, '')}`.trimEnd());
  }
  return out.join('\n');
}
