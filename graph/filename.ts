// bdrv_refresh_filename (block.c, QEMU 7.2): the name query-named-block-nodes reports is the
// node's exact_filename, or else a json:{…} pseudo-filename built from its full_open_options,
// which the oracle records as none (stored as ""). Per driver:
// - file: the name it was opened with (exact_filename set by bdrv_open_common);
// - null-co/null-aio (null_refresh_filename): "DRIVER://" unless a strong option (size,
//   read-zeroes) is among its options;
// - blkdebug (blkdebug_refresh_filename): "blkdebug:CONFIG:IMAGE" when its image has an exact
//   name and no strong option but `config` is set (inject-error, set-state, align, … → json);
// - implicit nodes copy their only child; named commit_top/mirror_top report their backing's
//   name (bdrv_commit_top_refresh_filename, bdrv_mirror_top_refresh_filename);
// - other filters (throttle, copy-on-read) and quorum: json (no primary child to reuse);
// - formats (qcow2, raw): their primary child's exact name when that child is a protocol-level
//   driver (.bdrv_file_open: file, null-co, null-aio, blkdebug), no strong option of the format
//   is set (raw: offset, size; qcow2: encrypt.key-secret) and the backing is not overridden
//   (bdrv_backing_overridden: the backing's name differs from the header's, or a header backing
//   is suppressed).
// Strong options are read from bs->options, so a reopen that drops them restores the plain name.
//
// Incremental: only nodes this command wrote (or whose child links it wrote) are recomputed,
// and a node whose name changed makes its parents recompute — QEMU recomputes on every query,
// which gives the same names as long as every change goes through here.
import type { Proc } from './proc.js';
import { QDict, toJson, type QValue } from './qdict-json.js';
import type { BdsNode, Edge } from './types.js';
import { own } from './own.js';
import { qdictKeys } from './reopen/qdict.js';

/** Drivers with .bdrv_file_open: a format may reuse their exact name. */
const FILE_OPEN = new Set(['file', 'host_device', 'null-co', 'null-aio', 'blkdebug', 'blkverify', 'nbd']);

/** drv->strong_runtime_opts; a key ending in "." is a prefix. */
const STRONG: Record<string, string[]> = {
  'null-co': ['size', 'read-zeroes'],
  'null-aio': ['size', 'read-zeroes'],
  raw: ['offset', 'size'],
  qcow2: ['encrypt.key-secret'],
  // vpc_strong_runtime_opts, qcow_strong_runtime_opts
  vpc: ['force_size_calc'],
  qcow: ['encrypt.key-secret'],
  // block_crypto_strong_runtime_opts
  luks: ['key-secret'],
  blkdebug: ['config', 'inject-error.', 'set-state.', 'align', 'max-transfer', 'opt-write-zero', 'max-write-zero', 'opt-discard', 'max-discard'],
  // blk_log_writes_strong_runtime_opts (fuzz 3771965151, 43511910, 226026675: a json:{} filename
  // keeps them, 7.2 and 10.0 alike)
  blklogwrites: ['log-append', 'log-sector-size'],
  // only in full_open_options (their names never reuse a child's): throttle_strong_runtime_opts,
  // quorum_strong_runtime_opts, nbd_strong_runtime_opts
  throttle: ['throttle-group'],
  replication: ['mode', 'top-id'],
  quorum: ['vote-threshold', 'blkverify', 'rewrite-corrupted', 'read-pattern'],
  nbd: ['path', 'host', 'port', 'export', 'tls-creds', 'tls-hostname', 'server.'],
};

/** Drivers whose exact_filename is a child's bs->filename (json:{…} included). */
const COPIES_CHILD_NAME = new Set(['copy-before-write', 'snapshot-access', 'commit_top', 'mirror_top']);

/** PATH_MAX: bs->filename and bs->exact_filename are char[PATH_MAX] */
const PATH_MAX = 4096;

/**
 * bs->full_open_options as bdrv_refresh_filename gathers it: append_strong_runtime_options
 * ("driver" and "filename" when in bs->options, then the driver's strong options, then the
 * driver's format_name when no "driver" was there), then each child's full_open_options under
 * its name in bs->children order (newest first), the backing only when overridden
 * (bdrv_backing_overridden; `"backing": null` when it was suppressed); quorum gathers its
 * children as a list (quorum_gather_child_options). An implicit node shares its child's.
 */
export function fullOpenOptions(p: Proc, node: string, depth = 0): QDict {
  const n = p.node(node)!;
  const kids = [...p.childrenOf(node)].sort((a, b) => b.at - a.at);
  if (n.implicit && kids.length === 1 && depth < 1000) return fullOpenOptions(p, kids[0]!.child, depth + 1);
  const d = new QDict();
  const opts = n.options ?? {};
  const put = (k: string) => { if (k in opts) d.put(k, opts[k] as QValue); };
  put('driver');
  put('filename');
  for (const s of STRONG[n.driver] ?? []) {
    // a prefix walks bs->options with qdict_first/qdict_next (bucket order, newest first in a
    // bucket), so keys sharing a bucket come in reverse of their insertion: blkdebug's
    // inject-error.0.event and .errno swap with every reopen's qdict_clone_shallow, and an
    // overlay whose header took the name before external_snapshot_commit's read-only reopen of
    // its blkdebug backing no longer matches it (fuzz --qemu 10.0 2858682111)
    if (s.endsWith('.')) for (const k of qdictKeys(opts)) { if (k.startsWith(s)) put(k); }
    else put(s);
  }
  if (!d.has('driver')) d.put('driver', n.driver);
  if (depth >= 1000) return d;
  const overridden = backingOverridden(p, n, kids);
  if (n.driver === 'quorum') {
    const list = kids.filter((e) => e.name.startsWith('children.'))
      .sort((a, b) => Number(a.name.slice(9)) - Number(b.name.slice(9)))
      .map((e) => fullOpenOptions(p, e.child, depth + 1));
    d.put('children', list);
    return d;
  }
  for (const e of kids) {
    if (e.name === 'backing' && !overridden) continue;
    d.put(e.name, fullOpenOptions(p, e.child, depth + 1));
  }
  if (overridden && !kids.some((e) => e.name === 'backing')) d.put('backing', null);
  return d;
}

/** bs->filename: the exact name, or "json:" and full_open_options (truncated with "..." at PATH_MAX). */
function fullFilename(p: Proc, node: string): string {
  const exact = p.node(node)?.filename ?? '';
  if (exact) return exact;
  const s = `json:${toJson(fullOpenOptions(p, node))}`;
  return s.length >= PATH_MAX ? s.slice(0, PATH_MAX - 4) + '...' : s;
}

/** append_strong_runtime_options: the strong options present in bs->options (driver/filename never count). */
function strongGiven(n: BdsNode, except: readonly string[] = []): boolean {
  const keys = Object.keys(n.options ?? {});
  return (STRONG[n.driver] ?? []).some((s) => !except.includes(s) && (s.endsWith('.') ? keys.some((k) => k.startsWith(s)) : s in n.options));
}

/** The name `node` reports, from its children's current names ("" = a json:{…} name). */
export function filenameOf(p: Proc, node: string): string {
  const n = p.node(node)!;
  const kids = p.childrenOf(node);
  const nameOf = (e: Edge | undefined) => (e ? p.node(e.child)?.filename ?? '' : '');
  if (n.implicit && kids.length === 1) return nameOf(kids[0]);
  switch (n.driver) {
    case 'file':
    case 'host_device':
    case 'nbd':
      return n.filename;
    case 'null-co':
    case 'null-aio':
      return strongGiven(n) ? '' : `${n.driver}://`;
    case 'blkdebug': {
      const img = nameOf(kids.find((e) => e.name === 'image'));
      if (!img || strongGiven(n, ['config'])) return '';
      // an overflow of exact_filename makes the name unusable: none is reported
      const s = `blkdebug:${n.options.config === undefined ? '' : String(n.options.config)}:${img}`;
      return s.length >= PATH_MAX ? '' : s;
    }
    case 'blkverify': {
      // blkverify_refresh_filename: "blkverify:RAW:TEST" when both have an exact name
      const raw = nameOf(kids.find((e) => e.name === 'raw'));
      const test = nameOf(kids.find((e) => e.name === 'test'));
      return raw && test ? `blkverify:${raw}:${test}` : '';
    }
    // These copy the child's bs->filename, a json:{…} name included, into their exact_filename
    // (which a blkdebug above them then embeds: "blkdebug::json:{…}")
    case 'commit_top':
    case 'mirror_top': {
      // bdrv_commit_top_refresh_filename, bdrv_mirror_top_refresh_filename: bs->backing->bs->filename
      const b = kids.find((e) => e.name === 'backing');
      return b ? fullFilename(p, b.child) : '';
    }
    case 'copy-before-write':
    case 'snapshot-access': {
      // cbw_refresh_filename, snapshot_access_refresh_filename: bs->file->bs->filename
      const f = kids.find((e) => e.name === 'file');
      return f ? fullFilename(p, f.child) : '';
    }
    case 'qcow2':
    // bdrv_qed has no .strong_runtime_opts: its name is its file's while the backing is its header's
    case 'qed':
    case 'vdi': case 'vpc': case 'vhdx': case 'parallels': case 'qcow': case 'vmdk':
    case 'raw': {
      if (strongGiven(n) || backingOverridden(p, n, kids)) return '';
      const f = kids.find((e) => e.name === 'file');
      const fn = f ? p.node(f.child) : undefined;
      return fn && FILE_OPEN.has(fn.driver) ? fn.filename : '';
    }
    case 'throttle':
    case 'copy-on-read':
    case 'quorum':
    // replication_strong_runtime_opts (mode, top-id): mode is always given, so never a child's name
    case 'replication':
      return '';
    default:
      return n.filename;
  }
}

/** bdrv_backing_overridden: auto_backing_file is the header's backing file name unless an implicit open set it. */
function backingOverridden(p: Proc, n: BdsNode, kids: readonly Edge[]): boolean {
  const hdr = n.header?.auto ?? n.header?.backing ?? '';
  const b = kids.find((e) => e.name === 'backing');
  if (!b) return hdr !== '';
  // strcmp(bs->auto_backing_file, bs->backing->bs->filename): a backing without a plain name
  // has its json: pseudo-filename there, which matches a header written from that same name
  return pseudoFilename(p, b.child) !== hdr;
}

/**
 * bs->filename as QEMU holds it: the plain name, or for a node without one the "json:{...}"
 * pseudo-filename bdrv_refresh_filename builds from full_open_options (the driver, its strong
 * options, each child's name or options). The model stores "" for those (the oracle reports
 * none); this rebuilds the json: name (fullFilename, QEMU's own rendering) for the places where
 * QEMU uses the string itself: bdrv_img_create writing it as an overlay's backing file
 * (external_snapshot_prepare), and bdrv_backing_overridden comparing it with the header.
 */
export function pseudoFilename(p: Proc, node: string): string {
  return p.node(node) ? fullFilename(p, node) : '';
}

export function refreshFilenames(p: Proc): void {
  const work: string[] = [];
  // a node already waiting in the list is not queued twice (diamonds would multiply the work)
  const pending = new Set<string>();
  const add = (n: string | undefined) => { if (n && p.node(n) && !pending.has(n)) { pending.add(n); work.push(n); } };
  const before = (p.d.base[p.name]?.nodes ?? {}) as Record<string, BdsNode>;
  for (const id of p.d.written(p.name, 'nodes')) {
    const n = p.node(id);
    if (n && n.driver !== 'file' && n.driver !== 'host_device') add(id);
    // a name already changed by the command itself (e.g. reopen's own refresh) reaches the parents too
    const was = own(before, id);
    if (n && was && was.filename !== n.filename) for (const e of p.parents(id)) if (e.parent.kind === 'node') add(e.parent.node);
  }
  const base = (p.d.base[p.name]?.edges ?? {}) as Record<string, Edge>;
  for (const id of p.d.written(p.name, 'edges')) {
    for (const e of [own(base, id), p.edge(id)]) if (e?.parent.kind === 'node') add(e.parent.node);
  }
  // fixed point over a DAG: a changed name sends its parents back to the list
  for (let i = 0; i < work.length && i < 1_000_000; i++) {
    const node = work[i]!;
    pending.delete(node);
    const n = p.node(node);
    if (!n) continue;
    const name = filenameOf(p, node);
    if (name === n.filename) {
      // bdrv_refresh_filename recurses into every child at each query: a node whose own name
      // stays (exact or json:) may still have new full_open_options (a filter inserted below it,
      // bdrv_insert_node of a second backup's copy-before-write), which every json: ancestor
      // embeds and a copy-before-write parent of such an ancestor copies (stop 42:
      // combo-c13-backup-filters, a backup's filter above a copy-on-read whose file got two more)
      jsonNameMayHaveChanged(p, node, add);
      continue;
    }
    p.patchNode(node, { filename: name });
    for (const e of p.parents(node)) if (e.parent.kind === 'node') add(e.parent.node);
  }
}

/**
 * A node whose name is and stays a json:{…} one ("" here) may still have another json: string
 * now: its full_open_options embed its children's. Who sees that string: a parent that copies it
 * (copy-before-write, snapshot-access, commit_top, mirror_top: their name is recomputed), a parent
 * whose header names a json: backing file, which bdrv_backing_overridden compares with it
 * (strcmp(auto_backing_file, backing->bs->filename); a plain header name never equals a json:
 * one, so only json: headers can change their answer), and the same parents of every ancestor
 * that has a json: name too, its own string embedding this one. Those ancestors are only walked,
 * not recomputed (a json: name over a json: child stays one), so a long chain of json: names
 * costs a walk, not a rendering per node.
 */
function jsonNameMayHaveChanged(p: Proc, node: string, add: (n: string) => void): void {
  const seen = new Set<string>([node]);
  const stack = [node];
  for (let guard = 0; stack.length && guard < 1_000_000; guard++) {
    const cur = stack.pop()!;
    for (const e of p.parents(cur)) {
      if (e.parent.kind !== 'node') continue;
      const par = e.parent.node;
      const pn = p.node(par);
      if (!pn) continue;
      if (COPIES_CHILD_NAME.has(pn.driver) || (e.name === 'backing' && (pn.header?.backing ?? '').startsWith('json:'))) add(par);
      else if (pn.filename === '' && !seen.has(par)) { seen.add(par); stack.push(par); }
    }
  }
}
