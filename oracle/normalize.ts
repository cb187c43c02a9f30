// Turns what QEMU reports into the comparable form of shared/oracle/README.md: canonical names
// instead of QEMU's `#block<N><random>` names, no temp-dir prefixes, no timing-dependent events.
import type { NamedBlockNode, QmpEvent, XDebugBlockGraph } from '../commands/protocol.js';
import type { Json, JsonObject, NormEdge, NormEvent, NormGraph, NormNode, NormParent } from './format.js';

/** QEMU's BlockPermission bits in bit order; lists are always printed in this order. */
export const PERM_ORDER = ['consistent-read', 'write', 'write-unchanged', 'resize'] as const;

export function sortPerms(perms: readonly string[]): string[] {
  const rank = (p: string) => {
    const i = (PERM_ORDER as readonly string[]).indexOf(p);
    return i < 0 ? PERM_ORDER.length : i;
  };
  // unknown names (none in 7.2) keep their relative order after the known bits
  return perms.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map((x) => x.p);
}

const AUTO_NAME = /^#block\d+$/;
const AUTO_NAME_G = /#block\d+/g;
export const isAutoName = (name: string): boolean => AUTO_NAME.test(name);

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface NormalizeOptions { dir?: string }

/** `<dir>/x` → `x`, `<dir>` → `.`; the dir is taken without a trailing slash. */
export function stripDir(s: string, dir?: string): string {
  if (!dir) return tempOverlayNames(s);
  const d = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  return tempOverlayNames(s.split(`${d}/`).join('').split(d).join('.'));
}

/**
 * A drive's snapshot=on overlay lives in a mkstemp file, vl.XXXXXX with six random characters
 * (block.c get_tmp_filename / create_tmp_file), in the scenario's directory (the recorder's
 * TMPDIR): every such name is written vl.XXXXXX, the model's (graph/temp-snapshot.ts) too.
 */
const TEMP_OVERLAY = /(^|[^A-Za-z0-9_.\/-])vl\.[A-Za-z0-9]{6}(?![A-Za-z0-9])/g;
function tempOverlayNames(s: string): string {
  return s.replace(TEMP_OVERLAY, '$1vl.XXXXXX');
}

/**
 * Applies the canonical names and the temp-dir stripping to free text (error descriptions, event
 * data). An auto name that is not in `rename` (a node that never made it into the graph) keeps only
 * QEMU's deterministic counter: its last two digits are random.
 */
export function normalizeString(s: string, rename: ReadonlyMap<string, string>, dir?: string): string {
  const renamed = s.replace(AUTO_NAME_G, (m) => rename.get(m) ?? `${m.slice(0, -2)}??`);
  return stripDir(renamed, dir);
}

export function normalizeJson(v: Json, rename: ReadonlyMap<string, string>, dir?: string): Json {
  if (typeof v === 'string') return normalizeString(v, rename, dir);
  if (Array.isArray(v)) return v.map((x) => normalizeJson(x, rename, dir));
  if (v && typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalizeJson(x, rename, dir);
    return out;
  }
  return v;
}

/**
 * One BlockDirtyInfo as a transcript line: name, granularity, then the flags that are set
 * (`disabled` for not recording). The count is left out: the model moves no data.
 */
export function bitmapText(b: NonNullable<NamedBlockNode['dirty-bitmaps']>[number]): string {
  const flags = [b.persistent && 'persistent', !b.recording && 'disabled', b.busy && 'busy', b.inconsistent && 'inconsistent'];
  return [b.name ?? '(anonymous)', String(b.granularity), ...flags.filter((f): f is string => typeof f === 'string')].join(' ');
}

export interface NormalizedGraph { graph: NormGraph; rename: Map<string, string> }

export function normalizeGraph(xdebug: XDebugBlockGraph, named: NamedBlockNode[], opts: NormalizeOptions = {}): NormalizedGraph {
  const byId = new Map(xdebug.nodes.map((n) => [n.id, n]));
  const incoming = new Map<number, XDebugBlockGraph['edges']>();
  for (const e of xdebug.edges) {
    const list = incoming.get(e.child) ?? [];
    list.push(e);
    incoming.set(e.child, list);
  }

  // Names that canonical names must not take: user node-names and job ids.
  const taken = new Set<string>();
  for (const n of xdebug.nodes) {
    if (n.type === 'block-job' || (n.type === 'block-driver' && !isAutoName(n.name))) taken.add(n.name);
  }
  const unique = (base: string): string => {
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}#${k}`;
    taken.add(name);
    return name;
  };

  const canon = new Map<number, string>();
  const visiting = new Set<number>();
  let orphans = 0;
  const resolve = (id: number): string | undefined => {
    const known = canon.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    if (!node) return undefined;
    if (node.type === 'block-job' || (node.type === 'block-driver' && !isAutoName(node.name))) {
      canon.set(id, node.name);
      return node.name;
    }
    if (node.type !== 'block-driver') return undefined;
    // a parent on a cycle back to this node cannot name it
    if (visiting.has(id)) return undefined;
    visiting.add(id);
    const pick = (type: 'block-driver' | 'block-job'): string | undefined => {
      let best: string | undefined;
      for (const e of incoming.get(id) ?? []) {
        if (byId.get(e.parent)?.type !== type) continue;
        const p = resolve(e.parent);
        if (p === undefined) continue;
        const cand = `${p}.${e.name}`;
        if (best === undefined || cand < best) best = cand;
      }
      return best;
    };
    const base = pick('block-driver') ?? pick('block-job');
    visiting.delete(id);
    const name = unique(base ?? `#orphan${orphans++}`);
    canon.set(id, name);
    return name;
  };
  for (const n of xdebug.nodes) if (n.type === 'block-job') canon.set(n.id, n.name);
  for (const n of xdebug.nodes) if (n.type === 'block-driver') resolve(n.id);

  // BlockBackends: anonymous ones named after the node under their root edge, several on one node ordered by
  // their root edge's perms (which is all that tells them apart), then by query order.
  const rootEdge = (id: number) => {
    const out = xdebug.edges.filter((e) => e.parent === id);
    return out.find((e) => e.name === 'root') ?? out[0];
  };
  const bbs = xdebug.nodes
    .filter((n) => n.type === 'block-backend')
    .map((n, order) => {
      const e = rootEdge(n.id);
      const key = e ? JSON.stringify([sortPerms(e.perm), sortPerms(e['shared-perm'])]) : '';
      // A guest device's BlockBackend (vm target) carries the device's name (blk_get_attached_dev_id):
      // `dev:sd0`, `dev:/machine/peripheral/vd0/virtio-backend`. QSD's are all anonymous.
      const base = n.name ? `dev:${n.name}` : `bb:${e ? canon.get(e.child) ?? '-' : '-'}`;
      return { id: n.id, base, key, order };
    })
    .sort((a, b) => cmp(a.base, b.base) || cmp(a.key, b.key) || a.order - b.order);
  for (const bb of bbs) canon.set(bb.id, unique(bb.base));

  const rename = new Map<string, string>();
  const dir = opts.dir;
  const namedBy = new Map(named.map((n) => [n['node-name'], n]));
  const nodes: NormNode[] = [];
  const parents: NormParent[] = [];
  for (const n of xdebug.nodes) {
    const name = canon.get(n.id)!;
    if (n.type === 'block-driver') {
      if (n.name !== name) rename.set(n.name, name);
      const info = namedBy.get(n.name);
      const node: NormNode = { name, driver: info?.drv ?? '', ro: info?.ro ?? false };
      const file = info?.file ?? '';
      if (file !== '' && !file.startsWith('json:')) node.file = stripDir(file, dir);
      const bitmaps = info?.['dirty-bitmaps'];
      if (bitmaps?.length) node.bitmaps = bitmaps.map(bitmapText);
      nodes.push(node);
    } else {
      parents.push({ name, type: n.type });
    }
  }
  const edges: NormEdge[] = xdebug.edges.map((e) => ({
    parent: canon.get(e.parent) ?? '-',
    name: e.name,
    child: canon.get(e.child) ?? '-',
    perm: sortPerms(e.perm),
    shared: sortPerms(e['shared-perm']),
  }));
  nodes.sort((a, b) => cmp(a.name, b.name));
  parents.sort((a, b) => cmp(a.name, b.name));
  edges.sort((a, b) => cmp(a.parent, b.parent) || cmp(a.name, b.name) || cmp(a.child, b.child));
  return { graph: { nodes, parents, edges }, rename };
}

/**
 * QSD 7.2 segfaults in `query-named-block-nodes` when a stream job's copy-on-read filter has lost
 * its children but the undismissed job still holds it (README crash 4). Returns the filter's name
 * so the recorder takes no graph there instead of killing the daemon (oracle/harness.ts snapshotGraph).
 */
export function findDetachedJobFilter(xdebug: XDebugBlockGraph): string | undefined {
  const byId = new Map(xdebug.nodes.map((n) => [n.id, n]));
  for (const n of xdebug.nodes) {
    if (n.type !== 'block-driver') continue;
    if (xdebug.edges.some((e) => e.parent === n.id)) continue;
    const inc = xdebug.edges.filter((e) => e.child === n.id);
    if (inc.length > 0 && inc.every((e) => e.name === 'main node' && byId.get(e.parent)?.type === 'block-job')) return n.name;
  }
  return undefined;
}

export const PROGRESS_EVENTS = new Set(['BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED', 'BLOCK_JOB_READY']);
const PAUSE_COMMANDS = new Set(['job-pause', 'block-job-pause']);
const RESUME_COMMANDS = new Set(['job-resume', 'block-job-resume']);

/**
 * The per-daemon state the drain-flicker rule needs across steps: which jobs the scenario asked
 * to pause, and which jobs are in an unrequested pause whose way back is to be dropped too.
 */
export class EventNormalizer {
  private readonly pauseRequested = new Set<string>();
  private readonly flickering = new Set<string>();

  /** Call for every command sent to this daemon, before its events are normalized. */
  noteCommand(execute: string, args: Record<string, unknown> | undefined, ok: boolean): void {
    if (!ok) return;
    const job = typeof args?.id === 'string' ? args.id : typeof args?.device === 'string' ? args.device : undefined;
    if (job === undefined) return;
    if (PAUSE_COMMANDS.has(execute)) this.pauseRequested.add(job);
    if (RESUME_COMMANDS.has(execute)) this.pauseRequested.delete(job);
  }

  normalize(events: readonly QmpEvent[], rename: ReadonlyMap<string, string>, dir?: string): NormEvent[] {
    const out: NormEvent[] = [];
    for (const ev of events) {
      let data = ev.data as JsonObject | undefined;
      if (ev.event === 'JOB_STATUS_CHANGE' && data && typeof data.id === 'string') {
        const id = data.id;
        const status = data.status;
        // a job created under an id reused from an earlier job (cancelled while the scenario had
        // paused it) is another job: that pause request was not made of it, so the flicker of its
        // start in a drained section (blockdev_backup_prepare's bdrv_drained_begin until .clean:
        // job_co_entry's first job_pause_point) is dropped as for any job
        if (status === 'created') { this.pauseRequested.delete(id); this.flickering.delete(id); }
        if ((status === 'paused' || status === 'standby') && !this.pauseRequested.has(id)) {
          this.flickering.add(id);
          continue;
        }
        if (this.flickering.has(id)) {
          this.flickering.delete(id);
          if (status === 'running' || status === 'ready') continue;
        }
      }
      if (data && PROGRESS_EVENTS.has(ev.event)) {
        const { offset: _o, len: _l, ...rest } = data;
        data = rest;
      }
      const norm: NormEvent = { event: ev.event };
      if (data !== undefined) norm.data = normalizeJson(data, rename, dir) as JsonObject;
      out.push(norm);
    }
    return out;
  }
}

/** Stateless form for one batch: `commands` are the successful commands sent before or during it. */
export function normalizeEvents(
  events: readonly QmpEvent[],
  rename: ReadonlyMap<string, string>,
  opts: { dir?: string; commands?: { execute: string; arguments?: Record<string, unknown> }[] } = {},
): NormEvent[] {
  const n = new EventNormalizer();
  for (const c of opts.commands ?? []) n.noteCommand(c.execute, c.arguments, true);
  return n.normalize(events, rename, opts.dir);
}
