// Regenerates table.ts from the real qemu-storage-daemon 7.2: `node --import tsx oracle/schema/gen-table.ts`.
// query-qmp-schema gives exact member order, optionality, enum values and union cases for this very
// build (its conditionals included), but hides two things the error texts depend on: the width of
// integer types (all shown as "int") and the names of alternates ("expected: BlockdevRef"). Both are
// recovered by probing the daemon; every probe carries an unexpected member, so no command runs.
import { writeFileSync } from 'node:fs';
import { Qsd } from './qsd.js';

const COMMANDS = [
  'blockdev-add', 'blockdev-reopen', 'blockdev-del', 'block-export-add', 'block-export-del',
  'nbd-server-start', 'nbd-server-stop', 'object-add', 'object-del', 'block-stream', 'block-commit',
  'blockdev-mirror', 'blockdev-snapshot', 'x-blockdev-set-iothread', 'x-blockdev-change', 'block_resize',
  'job-pause', 'job-resume', 'job-cancel', 'job-complete', 'job-finalize', 'job-dismiss',
  'block-job-set-speed', 'block-job-cancel', 'block-job-pause', 'block-job-resume', 'block-job-complete',
  'block-job-finalize', 'block-job-dismiss', 'query-jobs', 'query-block-jobs', 'query-named-block-nodes',
  'x-debug-query-block-graph', 'query-block-exports', 'qmp_capabilities', 'query-version',
  // the rest of QSD 7.2's query-commands, so every command's arguments are checked as QEMU does
  'transaction', 'qom-list-properties', 'qom-list-types', 'qom-set', 'qom-get', 'qom-list', 'query-qmp-schema', 'quit', 'query-commands', 'chardev-send-break', 'chardev-remove', 'chardev-change', 'chardev-add', 'ringbuf-read', 'ringbuf-write', 'query-chardev-backends', 'query-chardev', 'nbd-server-remove', 'nbd-server-add', 'blockdev-snapshot-delete-internal-sync', 'blockdev-snapshot-internal-sync', 'block-set-write-threshold', 'x-blockdev-amend', 'blockdev-create', 'x-debug-block-dirty-bitmap-sha256', 'block-dirty-bitmap-merge', 'block-dirty-bitmap-disable', 'block-dirty-bitmap-enable', 'block-dirty-bitmap-clear', 'block-dirty-bitmap-remove', 'block-dirty-bitmap-add', 'drive-mirror', 'blockdev-backup', 'drive-backup', 'change-backing-file', 'blockdev-snapshot-sync', 'query-blockstats', 'query-block',
];
// Boxed commands take a named type as their arguments; the rest get QEMU's implicit q_obj_*-arg.
const ARG_NAMES: Record<string, string> = {
  'blockdev-add': 'BlockdevOptions', 'block-export-add': 'BlockExportOptions', 'object-add': 'ObjectOptions',
};
// Real QAPI names for types whose derived name would mislead a reader (cosmetic only).
const RENAME: Record<string, string> = {
  BlockdevOptionsDriver: 'BlockdevDriver', BlockdevOptionsBochs: 'BlockdevOptionsGenericFormat',
  BlockdevOptionsNullAio: 'BlockdevOptionsNull', BlockdevOptionsQed: 'BlockdevOptionsGenericCOWFormat',
  BlockdevOptionsDiscard: 'BlockdevDiscardOptions', BlockdevOptionsCache: 'BlockdevCacheOptions',
  BlockdevOptionsDetectZeroes: 'BlockdevDetectZeroesOptions', BlockdevOptionsReadOnly: 'bool',
  BlockExportOptionsType: 'BlockExportType', ObjectOptionsQomType: 'ObjectType',
  'q_obj_nbd-server-start-argAddr': 'SocketAddressLegacy', 'q_obj_block-stream-argOnError': 'BlockdevOnError',
  'q_obj_blockdev-mirror-argSync': 'MirrorSyncMode', 'q_obj_blockdev-mirror-argCopyMode': 'MirrorCopyMode',
  'q_obj_block-export-del-argMode': 'BlockExportRemoveMode', ObjectOptionsIothread: 'IothreadProperties',
  ObjectOptionsThrottleGroup: 'ThrottleGroupProperties', ObjectOptionsThrottleGroupLimits: 'ThrottleLimits',
  'q_obj_transaction-argActionAbortData': 'Abort', 'q_obj_transaction-argAction': 'TransactionAction',
  'q_obj_transaction-argActionType': 'TransactionActionKind', 'q_obj_transaction-argProperties': 'TransactionProperties',
  'q_obj_transaction-argPropertiesCompletionMode': 'ActionCompletionMode', 'q_obj_blockdev-snapshot-sync-argMode': 'NewImageMode',
};

type Entry = { name: string; 'meta-type': string; [k: string]: any };
type Step = { m: string } | { i: number } | { alt: string };
type Width = 'int' | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'size';

const pascal = (s: string) => s.split(/[-_]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

const q = await Qsd.start();
const raw = (await q.exec('query-qmp-schema')) as { ok: true; ret: Entry[] };
const by = new Map(raw.ret.map((e) => [e.name, e]));
const get = (t: string) => by.get(t) ?? (t.startsWith('[') ? { name: t, 'meta-type': 'array', 'element-type': t.slice(1, -1) } : undefined)!;

// Names: first reachable path wins, breadth-first, so short well-known paths name shared types.
const names = new Map<string, string>();
const order: string[] = [];
const queue: [string, string][] = [];
const give = (t: string, n: string): void => {
  const e = get(t);
  if (e['meta-type'] === 'builtin') return;
  if (e['meta-type'] === 'array') { give(e['element-type'], n.replace(/s$/, '')); return; }
  if (names.has(t)) return;
  if (e['meta-type'] === 'object' && !e.members.length && !e.tag) {
    // every empty struct is the one q_empty (the schema has several, e.g. chardev backends without data)
    n = 'q_empty';
    if ([...names.values()].includes(n)) { names.set(t, n); return; }
  }
  names.set(t, RENAME[n] ?? n); order.push(t); queue.push([t, RENAME[n] ?? n]);
};
for (const c of COMMANDS) give(get(c)['arg-type'], ARG_NAMES[c] ?? `q_obj_${c}-arg`);
while (queue.length) {
  const [t, n] = queue.shift()!;
  const e = get(t);
  for (const m of e.members ?? []) if (m.name !== undefined && e['meta-type'] === 'object') give(m.type, n + pascal(m.name));
  for (const v of e.variants ?? []) give(v.type, n + pascal(v.case));
  if (e['meta-type'] === 'alternate') e.members.forEach((m: any, i: number) => give(m.type, `${n}Branch${i}`));
}

// A minimal value of type t that the QAPI layer accepts, following `path` to put `leaf` at its end.
function build(t: string, path: Step[], leaf: unknown): unknown {
  const e = get(t);
  const [s, ...rest] = path;
  switch (e['meta-type']) {
    case 'builtin':
      if (s) throw new Error('path into builtin');
      return leaf !== undefined ? leaf : ({ str: 'x', int: 0, bool: false, number: 0, null: null, any: 0 } as any)[t];
    case 'enum': return leaf !== undefined && !s ? leaf : e.values[0];
    case 'array': return s ? [build(e['element-type'], rest, leaf)] : [];
    case 'alternate': {
      if (s && 'alt' in s) return build(s.alt, rest, leaf);
      if (!s && leaf !== undefined) return leaf;
      const str = e.members.find((m: any) => m.type === 'str');
      return build(str ? 'str' : e.members[0].type, [], undefined);
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      let caseType: string | undefined;
      if (e.tag) {
        const wanted = s && 'm' in s && s.m.startsWith('case:') ? s.m.slice(5) : undefined;
        const v = wanted ? e.variants.find((x: any) => x.case === wanted) : e.variants[0];
        out[e.tag] = v.case; caseType = v.type;
      }
      const p = s && 'm' in s && s.m.startsWith('case:') ? rest : path;
      const [s2, ...rest2] = p;
      for (const m of e.members) {
        if (m.name === e.tag) continue;
        if (s2 && 'm' in s2 && s2.m === m.name) out[m.name] = build(m.type, rest2, leaf);
        else if (m.default === undefined) out[m.name] = build(m.type, [], undefined);
      }
      if (caseType) Object.assign(out, build(caseType, p, leaf) as object);
      return out;
    }
  }
  throw new Error(`unknown meta-type ${e['meta-type']}`);
}

// Every (owner type, member) holding an integer or an alternate, with one path to reach it.
const intSites = new Map<string, { cmd: string; root: string; path: Step[] }>();
const altSites = new Map<string, { cmd: string; root: string; path: Step[] }>();
const isInt = (t: string) => t === 'int' || t === '[int]';
const intPath = (p: Step[], t: string): Step[] => (t === '[int]' ? [...p, { i: 0 }] : p);
function walk(cmd: string, root: string, t: string, path: Step[], onPath: Set<string>) {
  const e = get(t);
  if (onPath.has(t)) return;
  const here = new Set(onPath).add(t);
  if (e['meta-type'] === 'array') return walk(cmd, root, e['element-type'], [...path, { i: 0 }], here);
  if (e['meta-type'] === 'alternate') {
    if (!altSites.has(t)) altSites.set(t, { cmd, root, path });
    for (const m of e.members) walk(cmd, root, m.type, [...path, { alt: m.type }], here);
    return;
  }
  if (e['meta-type'] !== 'object') return;
  for (const m of e.members) {
    const key = `${t}.${m.name}`;
    if (isInt(m.type) && !intSites.has(key)) intSites.set(key, { cmd, root, path: intPath([...path, { m: m.name }], m.type) });
    walk(cmd, root, m.type, [...path, { m: m.name }], here);
  }
  for (const v of e.variants ?? []) {
    const vt = get(v.type);
    // a variant's members are reached under its own case
    for (const m of vt.members) {
      const key = `${v.type}.${m.name}`;
      const p: Step[] = [...path, { m: 'case:' + v.case }, { m: m.name }];
      if (isInt(m.type) && !intSites.has(key)) intSites.set(key, { cmd, root, path: intPath(p, m.type) });
      walk(cmd, root, m.type, p, here);
    }
  }
}
for (const c of COMMANDS) walk(c, get(c)['arg-type'], get(c)['arg-type'], [], new Set());

const probe = async (site: { cmd: string; root: string; path: Step[] }, leafJson: string) => {
  const MARK = '"__LEAF__"';
  const args = build(site.root, site.path, '__LEAF__') as Record<string, unknown>;
  args['zz-probe'] = 1;
  return q.execRaw(JSON.stringify({ execute: site.cmd, arguments: args }).replace(MARK, leafJson));
};

const widths = new Map<string, Width>();
const VALUES = ['"x"', '-1', '9223372036854775808', '4294967296', '2147483648', '65536', '32768', '256', '128'];
for (const [key, site] of intSites) {
  const sig: string[] = [];
  for (const v of VALUES) {
    const r = await probe(site, v);
    const m = !r.ok && /^Parameter '[^']*' expects (\S+)$/.exec(r.desc);
    sig.push(r.ok || /is unexpected$/.test(r.desc) || !/^(Parameter|Invalid parameter)/.test(r.desc) ? 'ok'
      : m ? m[1] : 'type');
  }
  // a range error names the C type (int32_t); otherwise -1 and 2^63 tell int64 from uint64
  const narrow = sig.find((x) => x.endsWith('_t'));
  const w = (narrow ? narrow.slice(0, -2) : sig[2] === 'ok' ? 'uint64' : 'int') as Width;
  const expectFirst = w.startsWith('u') ? 'uint64' : 'type';
  if (sig[0] !== expectFirst || (w === 'uint64' && sig[1] !== 'ok')) throw new Error(`${key}: ${sig}`);
  widths.set(key, w);
  console.error(key, w, sig.join(' '));
}
const altNames = new Map<string, string>();
for (const [t, site] of altSites) {
  const branches = new Set(get(t).members.map((m: any) => get(m.type)['json-type'] ?? get(m.type)['meta-type']));
  const wrong = branches.has('boolean') ? '[]' : 'true';
  const r = await probe(site, wrong);
  const m = !r.ok && /expected: (\S+)$/.exec(r.desc);
  if (!m) throw new Error(`alternate ${t}: ${JSON.stringify(r)}`);
  altNames.set(t, m[1]);
  names.set(t, m[1]);
}
await q.stop();

// Emit in QAPI-like syntax: '*name' marks an optional member, ['T'] a list.
const ref = (t: string): string => {
  const e = get(t);
  if (e['meta-type'] === 'array') return `['${ref(e['element-type'])}']` as string;
  return e['meta-type'] === 'builtin' ? t : names.get(t)!;
};
const lit = (s: string) => `'${s}'`;
const key = (s: string) => (/^[A-Za-z_$][\w$]*$/.test(s) ? s : lit(s));
const lines: string[] = [];
for (const t of order) {
  const e = get(t), n = names.get(t)!;
  if (e['meta-type'] === 'enum') lines.push(`  ${key(n)}: { enum: [${e.values.map(lit).join(', ')}] },`);
  else if (e['meta-type'] === 'alternate') lines.push(`  ${key(n)}: { alternate: [${e.members.map((m: any) => ref(m.type)).map((r: string) => r.startsWith('[') ? r : lit(r)).join(', ')}] },`);
  else {
    const mem = e.members.map((m: any) => {
      const w = widths.get(`${t}.${m.name}`) ?? 'int';
      const ty = m.type === 'int' ? w : m.type === '[int]' ? `['${w}']` : ref(m.type);
      return `${key((m.default === undefined ? '' : '*') + m.name)}: ${ty.startsWith('[') ? ty : lit(ty)}`;
    });
    let s = `  ${key(n)}: { data: { ${mem.join(', ')} }`;
    if (e.tag) s += `, tag: ${lit(e.tag)}, cases: { ${e.variants.map((v: any) => `${key(v.case)}: ${lit(names.get(v.type)!)}`).join(', ')} }`;
    lines.push(s + ' },');
  }
}
const cmdLines = COMMANDS.map((c) => `  ${key(c)}: ${lit(names.get(get(c)['arg-type'])!)},`);
writeFileSync(new URL('../../commands/schema/table.ts', import.meta.url), `// Generated by gen-table.ts from qemu-storage-daemon 7.2.22 (query-qmp-schema plus probes); do not edit.
// QAPI-like syntax: '*name' = optional member, ['T'] = list of T; object members are in schema order,
// a union's variant members follow its base members. Integer types keep their width (int = int64).
import type { TypeDef } from './types.js';

/** Argument type of each command. */
export const COMMANDS: Record<string, string> = {
${cmdLines.join('\n')}
};

export const TYPES: Record<string, TypeDef> = {
${lines.join('\n')}
};
`);
console.error(`${order.length} types, ${intSites.size} integer members, ${altSites.size} alternates`);
