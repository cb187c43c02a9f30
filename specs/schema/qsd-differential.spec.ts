// Differential check against the real qemu-storage-daemon 7.2, where it is installed (skipped
// otherwise): random argument trees built from the table, mutated, sent to both. Where the
// validator accepts, a trailing unexpected root member is added before sending, so that QEMU
// must report exactly that member and no command ever runs. FUZZ_N / FUZZ_SEED vary the run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateCommand, COMMAND_NAMES } from '../../commands/schema/index.js';
import { TYPES } from '../../commands/schema/table.js';
import { Qsd, qsdAvailable } from '../../oracle/schema/qsd.js';

const N = Number(process.env.FUZZ_N ?? 1500);
let seed = Number(process.env.FUZZ_SEED ?? 7211);
const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

const INTS = [0, 1, -1, 512, 65536, 127, 128, 255, 256, 32767, 32768, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 31) - 1];
const WRONG: unknown[] = [1, -1, 1.5, 2 ** 32, 2 ** 63, 'x', '', true, false, null, [], ['x'], {}, { driver: 'null-co' }, 2 ** 64];
const wrong = () => structuredClone(pick(WRONG));
const NAMES = ['bogus', 'x', 'file', 'backing', 'size', 'driver', 'node-name', 'a', 'b', 'c', 'zz', 'read-only', 'cache', 'id', 'children', 'image', 'data', 'type', 'q', 'extra1', 'extra2', 'foo-bar'];

function gen(t: string | readonly [string], depth: number): unknown {
  if (typeof t !== 'string') return Array.from({ length: depth > 2 ? 0 : Math.floor(rnd() * 3) }, () => gen(t[0], depth + 1));
  switch (t) {
    case 'str': return pick(['x', 'a', '', 'n0', 'tg0']);
    case 'bool': return rnd() < 0.5;
    case 'null': return null;
    case 'any': return pick([1, 'x', {}]);
    case 'number': return pick([0, 1.5, 10]);
  }
  if (/^u?int(8|16|32|64)?$/.test(t)) return pick(INTS);
  const d = TYPES[t]!;
  if ('enum' in d) return pick(d.enum);
  if ('alternate' in d) {
    const b = depth > 2 ? d.alternate.find((x) => x === 'str') ?? d.alternate[0]! : pick(d.alternate);
    return gen(b, depth + 1);
  }
  const out: Record<string, unknown> = {};
  const fill = (name: string) => {
    const td = TYPES[name]!;
    if (!('data' in td)) return;
    for (const [k, mt] of Object.entries(td.data)) {
      const opt = k.startsWith('*');
      const m = opt ? k.slice(1) : k;
      if (td.tag === m) { out[m] = pick(Object.keys(td.cases!)); continue; }
      if (!opt || rnd() < (depth > 1 ? 0.1 : 0.3)) out[m] = gen(mt, depth + 1);
    }
    if (td.tag) fill(td.cases![out[td.tag] as string]!);
  };
  fill(t);
  return out;
}

function containers(v: unknown, acc: (Record<string, unknown> | unknown[])[] = []) {
  if (Array.isArray(v)) { acc.push(v); v.forEach((x) => containers(x, acc)); }
  else if (v && typeof v === 'object') { acc.push(v as Record<string, unknown>); Object.values(v).forEach((x) => containers(x, acc)); }
  return acc;
}

function mutate(root: Record<string, unknown>) {
  const all = containers(root);
  const c = pick(all);
  if (!c) throw new Error(`no container: ${all.length} ${JSON.stringify(root)}`);
  const r = rnd();
  if (Array.isArray(c)) { if (c.length) c[Math.floor(rnd() * c.length)] = wrong(); else c.push(wrong()); return; }
  const keys = Object.keys(c);
  if (r < 0.35) { for (let i = 0, n = 1 + Math.floor(rnd() * 5); i < n; i++) c[pick(NAMES) + (rnd() < 0.5 ? '' : String(i))] = wrong(); }
  else if (r < 0.5 && keys.length) delete c[pick(keys)];
  else if (keys.length) c[pick(keys)] = wrong();
}

const WEIGHTED = [...COMMAND_NAMES, ...Array(12).fill('blockdev-add'), ...Array(6).fill('blockdev-reopen'),
  ...Array(3).fill('block-export-add'), ...Array(3).fill('object-add')];

test('validator agrees with qemu-storage-daemon 7.2 on random arguments', async () => {
  if (!qsdAvailable()) { console.log('  (qemu-storage-daemon 7.2 not installed: differential check skipped)'); return; }
  const q = await Qsd.start();
  const diffs: string[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const cmd = pick(WEIGHTED);
      const args = gen(COMMANDS_ARG(cmd), 0) as Record<string, unknown>;
      for (let m = 0, n = Math.floor(rnd() * 3); m < n; m++) mutate(args);
      const mine = validateCommand(cmd, args);
      const sent = mine.ok ? { ...args, 'zzz-guard': 1 } : args;
      const want = mine.ok ? { ok: false, class: 'GenericError', desc: "Parameter 'zzz-guard' is unexpected" } : mine;
      const got = await q.exec(cmd, sent);
      const g = got.ok ? { ok: true } : { ok: false, class: got.class, desc: got.desc };
      if (JSON.stringify(g) !== JSON.stringify(want)) diffs.push(`${cmd} ${JSON.stringify(sent)}\n    qemu: ${JSON.stringify(g)}\n    ours: ${JSON.stringify(want)}`);
    }
  } finally { await q.stop(); }
  assert.equal(diffs.length, 0, `${diffs.length}/${N} differ:\n${diffs.slice(0, 8).join('\n')}`);
});

import { COMMANDS } from '../../commands/schema/table.js';
function COMMANDS_ARG(cmd: string) { return COMMANDS[cmd]!; }

// Many leftover keys force glib's table through growth, tombstones and shrinking.
test('the first unexpected key is the one qemu-storage-daemon 7.2 reports', async () => {
  if (!qsdAvailable()) return;
  const q = await Qsd.start();
  const diffs: string[] = [];
  try {
    for (let i = 0; i < N / 5; i++) {
      const args: Record<string, unknown> = rnd() < 0.5 ? {} : { driver: 'qcow2', file: 'f', 'node-name': 'n', 'read-only': true, backing: null, 'lazy-refcounts': true, 'cache-size': 1 };
      for (let k = 0, n = 1 + Math.floor(rnd() * 40); k < n; k++) args[pick(NAMES) + Math.floor(rnd() * 100)] = 1;
      const cmd = 'driver' in args ? 'blockdev-add' : 'query-jobs';
      const mine = validateCommand(cmd, args);
      const got = await q.exec(cmd, args);
      if (got.ok || mine.ok || got.desc !== mine.desc) diffs.push(`${JSON.stringify(args)}: qemu ${JSON.stringify(got)}, ours ${JSON.stringify(mine)}`);
    }
  } finally { await q.stop(); }
  assert.equal(diffs.length, 0, diffs.slice(0, 5).join('\n'));
});

test.run();
