// Issue 15, replay: the lazy fold (replay/fold-lazy.ts) over the redo scanner (store/redo-scan.ts).
// The scanner must read a redo part as JSON.parse does (entities, kinds, and texts that parse to
// the stored values, escapes too) or refuse it; the lazy fold must give the eager fold's state
// from a non-empty start as from scratch, raise the same errors at the same records (a damaged
// value, a patch of an entity the state does not hold), and report an image that is not JSON
// when it builds the entity. specs/store/fold-raw.spec.ts compares both folds at every seq of
// the golden and random engine logs.
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { BlockgraphError, LogCorruptError } from '../../errors/index.js';
import { randomStep, seededChooser, WORKLOAD_IMAGES, type Chooser } from '../../replay/drill/workload.js';
import { LazyFold, lazyWork } from '../../replay/fold-lazy.js';
import { emptyFold, foldRaw, type Fold } from '../../replay/fold.js';
import { ChainReader, encodeRecord, HEADER2, HEADER3 } from '../../store/codec.js';
import { newRedoScan, sameMembers, scanRedo, txnOf } from '../../store/redo-scan.js';
import { openMemory } from '../../store/index.js';
import type { NewRecord } from '../../store/types.js';

const it = suite('store/fold-lazy');

const shape = (f: Fold) => JSON.stringify({ seq: f.seq, state: f.state, open: [...f.open.values()] });
const node = (name: string, monitor: boolean) => ({
  aio: 'main', align: 1, auto: false, driver: 'null-co', explicit: { driver: 'null-co', 'node-name': name }, filename: 'null-co://',
  forceShare: false, header: null, implicit: false, inheritsFrom: null, lock: null, monitor, name, neverFreeze: false,
  options: { driver: 'null-co', 'node-name': name }, order: 1, ro: false, size: 1, unmap: false,
});
const rec = (data: Record<string, unknown>, txn = 't1'): NewRecord => ({ stream: 'A', type: 'txn.begun', v: 4, at: 'now', txn, data });
const whole = (changes: unknown[], outcome = 'commit') => ({
  op: 'x', args: {}, plan: ['main'], steps: [{ name: 'main', changes }],
  decided: outcome === 'commit' ? { outcome, reply: { return: {} }, events: [], ended: { stateHash: 'ab'.repeat(32) } } : { outcome, reason: 'no', ended: {} },
});
const redoOf = (value: string) => value.substring(HEADER3, HEADER3 + parseInt(value.substring(HEADER2, HEADER3), 16));

/** Encodes `datas` as records 1.. of one chain (txn ids t1..). */
function chain(datas: Record<string, unknown>[]): string[] {
  let prev = '';
  return datas.map((d, i) => {
    const x = encodeRecord(i + 1, rec(d, `t${i + 1}`), prev);
    prev = x.record.hash;
    return x.value;
  });
}

it('the scanner reads what JSON.parse reads: entities (escapes too), kinds, texts that parse to the stored values', () => {
  const odd = 'n\\"x\u00e9\u2028'; // a backslash, a quote, non-ASCII, a separator JSON escapes
  const datas = [
    whole([{ s: 'A', c: 'nodes', id: odd, before: null, after: node(odd, false) }]),
    whole([{ s: 'A', c: 'nodes', id: odd, before: node(odd, false), after: { ...node(odd, true), extra: { a: [1, '}]'] } } }]),
    whole([{ s: 'A', c: 'nodes', id: odd, before: node(odd, false), after: { ...node(odd, true), header: undefined, lock: undefined } }]), // removed members: u
    whole([{ s: 'B', c: 'odd-coll', id: 'k', before: null, after: [1, { '"': '\\' }] }]), // no template: as is
    whole([{ s: 'B', c: 'odd-coll', id: 'k', before: [1], after: null }], 'abort'),
    { op: 'x', args: {}, plan: ['a', 'b'], steps: [{ name: 'a', changes: [] }, { name: 'b', changes: [] }], decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: {} } },
  ];
  const r = newRedoScan();
  for (const v of chain(datas)) {
    const redo = redoOf(v);
    const parsed = JSON.parse(redo) as [string, number, string, [number, unknown[][][]]];
    assert.ok(scanRedo(v, HEADER3, HEADER3 + redo.length, r), redo);
    assert.is(txnOf(v, r), parsed[2]);
    assert.is(r.commit, parsed[3][0] === 1);
    assert.is(r.steps, parsed[3][1].length);
    const changes = parsed[3][1].flat();
    assert.is(r.n, changes.length);
    changes.forEach((ch, k) => {
      assert.equal([r.s[k], r.c[k], r.id[k]], ch.slice(0, 3));
      assert.is(r.kind[k], ch.length > 3 ? ch[3] : 0);
      if (ch.length > 3) assert.equal(JSON.parse(v.substring(r.xa[k]!, r.xb[k]!)), ch[4]);
      if (ch.length > 5) assert.equal(JSON.parse(v.substring(r.ua[k]!, r.ub[k]!)), ch[5]);
      else assert.ok(r.ua[k]! < 0);
    });
  }
  // refused: a transaction left open (code 0), no redo part, a truncated or padded text
  const open = encodeRecord(1, rec({ ...whole([]), decided: { outcome: 'commit', reply: { return: {} }, events: [] } }), '').value;
  assert.not.ok(scanRedo(open, HEADER3, HEADER3 + redoOf(open).length, r));
  const plain = encodeRecord(1, rec({ op: 'x', args: {}, plan: ['x'] }), '').value;
  assert.not.ok(scanRedo(plain, HEADER3, HEADER3 + redoOf(plain).length, r));
  const good = chain([datas[0]!])[0]!;
  const len = redoOf(good).length;
  assert.not.ok(scanRedo(good, HEADER3, HEADER3 + len - 1, r));
  assert.not.ok(scanRedo(good.substring(0, HEADER3 + len - 1) + ']]', HEADER3, HEADER3 + len + 1, r));
});

it('sameMembers: the same member names in the same order, as stored', () => {
  const t = (a: string, b: string) => sameMembers(a, 0, a.length, b, 0, b.length);
  assert.ok(t('{"seq":1}', '{"seq":22}'));
  assert.ok(t('{"a":{"x":[1,"}"]},"b":2}', '{"a":null,"b":"]"}'));
  assert.ok(t('{}', '{}'));
  assert.not.ok(t('{"a":1}', '{"b":1}'));
  assert.not.ok(t('{"a":1}', '{"a":1,"b":2}'));
  assert.not.ok(t('{"a":1,"b":2}', '{"b":2,"a":1}'));
  assert.not.ok(t('{}', '{"a":1}'));
  assert.not.ok(t('{"__proto__":1}', '{"__proto__":2}'));
});

/** Folds `values` eagerly (foldRaw) and lazily, built at every seq (or only at the end): the same state. */
function bothWays(values: string[], everySeq = true): void {
  const eager = emptyFold();
  const lazy = new LazyFold(emptyFold());
  const b = new ChainReader(1, '');
  const c = new ChainReader(1, '');
  for (const v of values) {
    foldRaw(eager, b.nextRaw(v));
    lazy.feed(c, v);
    if (everySeq) assert.is(shape(lazy.materialize()), shape(eager), `seq ${eager.seq}`);
  }
  assert.is(shape(lazy.materialize()), shape(eager), 'the end');
}

it('from a non-empty state (a snapshot, a seek): patches and deletes of entities it holds, at every seq', async () => {
  for (let seed = 11; seed <= 13; seed++) {
    const log = await openMemory();
    const e = await Engine.open(log, { clock: FIXED_CLOCK });
    for (const im of WORKLOAD_IMAGES) await e.execute('A', 'x-blockgraph-image-create', im as unknown as Record<string, unknown>);
    const ch = seededChooser(seed);
    for (let i = 0; i < 60; i++) {
      const s = randomStep(ch);
      await e.execute(s.proc, s.execute, s.arguments);
    }
    const values: string[] = [];
    for await (const chunk of log.readChunks({})) {
      for (const r of chunk) {
        const { seq, hash: _h, prevHash, ...rest } = r;
        values.push(encodeRecord(seq, rest, prevHash).value);
      }
    }
    // the eager fold up to the middle is the start (no transaction open there)
    const mid = Math.floor(values.length / 2);
    const start = emptyFold();
    const a = new ChainReader(1, '');
    for (const v of values.slice(0, mid)) foldRaw(start, a.nextRaw(v));
    assert.is(start.open.size, 0);
    const startHash = (await log.recordAt(mid))!.hash;
    const eager = { state: structuredClone(start.state), seq: mid, open: new Map() };
    const lazy = new LazyFold({ state: structuredClone(start.state), seq: mid, open: new Map() });
    const b = new ChainReader(mid + 1, startHash);
    const c = new ChainReader(mid + 1, startHash);
    let k = 0;
    for (const v of values.slice(mid)) {
      foldRaw(eager, b.nextRaw(v));
      lazy.feed(c, v);
      if (++k % 5 === 0) assert.is(shape(lazy.materialize()), shape(eager), `seed ${seed}: seq ${eager.seq}`);
    }
    assert.is(shape(lazy.materialize()), shape(eager), `seed ${seed}: the end`);
    await log.close();
  }
});

/**
 * Random whole transactions over a few entities of two scopes and three collections ("nodes" is
 * templated, "odd" and "more" are stored as is, "odd" sometimes holding arrays): creates, deletes,
 * new images and patches (members changed, added, removed), several per record and the same
 * entity more than once in one record, so that a deferred create (replay/fold-lazy.ts) meets
 * every neighbour: a cancel by its delete, a create or delete elsewhere in its collection, scope
 * or another scope, a patch or an image of itself or of another entity.
 */
function randomDatas(ch: Chooser, records: number): Record<string, unknown>[] {
  const scopes = ['A', 'B'];
  const colls = ['nodes', 'odd', 'more'];
  const ids = ['x', 'y', 'z', '7'];
  const now = new Map<string, unknown>();
  const pick = <T>(xs: T[]): T => xs[ch.int(xs.length)]!;
  const imageOf = (c: string, id: string, i: number): unknown => {
    if (c === 'nodes') return node(id, i % 2 === 0);
    if (c === 'odd' && ch.int(3) === 0) return [i, id];
    const o: Record<string, unknown> = { k: id, n: i };
    if (ch.int(2)) o.extra = { deep: [i] };
    return o;
  };
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < records; r++) {
    const changes: unknown[] = [];
    for (let k = 1 + ch.int(4); k > 0; k--) {
      const s = pick(scopes);
      const c = pick(colls);
      const id = pick(ids);
      const key = `${s}/${c}/${id}`;
      const before = now.get(key) ?? null;
      let after: unknown;
      const roll = ch.int(10);
      if (before === null) after = imageOf(c, id, r);
      else if (roll < 4) after = null;
      else if (roll < 7 || Array.isArray(before)) after = imageOf(c, id, r + 1);
      else {
        // a patch: a member changed, added or removed
        const b = { ...(before as Record<string, unknown>) };
        const m = ch.int(3);
        if (m === 0) b.n = r;
        else if (m === 1) b[`m${r % 3}`] = r;
        else delete b[Object.keys(b)[ch.int(Object.keys(b).length)]!];
        after = b;
      }
      if (after === null) now.delete(key);
      else now.set(key, after);
      changes.push({ s, c, id, before, after });
    }
    out.push(whole(changes, ch.int(5) === 0 ? 'abort' : 'commit'));
  }
  return out;
}

it('deferred creates: random changes over a few entities fold to the eager state at every seq, built at every seq or rarely', () => {
  lazyWork.cancelled = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const values = chain(randomDatas(seededChooser(seed), 60));
    bothWays(values);
    bothWays(values, false);
  }
  assert.ok(lazyWork.cancelled > 50, `${lazyWork.cancelled} creates cancelled by their delete`);
});

it('errors: a damaged value as nextRaw reports it; a patch of an entity the state does not hold at the same record', () => {
  const [v1, v2] = chain([
    whole([{ s: 'A', c: 'nodes', id: 'n', before: null, after: node('n', false) }]),
    whole([{ s: 'A', c: 'nodes', id: 'm', before: node('m', false), after: node('m', true) }]), // m was never made
  ]);
  bothWays([v1!]);
  const errOf = (fn: () => void): string => {
    try {
      fn();
    } catch (e) {
      return `${(e as BlockgraphError).code} ${(e as Error).message}`;
    }
    return 'no error';
  };
  const eagerErr = errOf(() => {
    const f = emptyFold();
    const b = new ChainReader(1, '');
    for (const v of [v1!, v2!]) foldRaw(f, b.nextRaw(v));
  });
  const lazyErr = errOf(() => {
    const l = new LazyFold(emptyFold());
    const c = new ChainReader(1, '');
    for (const v of [v1!, v2!]) l.feed(c, v);
  });
  assert.match(eagerErr, /^BG_LOG_PROTOCOL record 2 .*a patch of A\/nodes\/m/);
  assert.is(lazyErr, eagerErr);
  // damaged values: CRC, seq, link, redo length, redo text
  const redo = redoOf(v1!);
  const forge = (r: string) => {
    const rest = v1!.slice(8, HEADER2) + r.length.toString(16).padStart(8, '0') + r + v1!.substring(HEADER3 + redo.length);
    return crc32(rest).toString(16).padStart(8, '0') + rest;
  };
  const bads = [v1!.slice(0, -3) + 'x' + v1!.slice(-2), forge(redo.slice(0, -1)), forge(redo.replace('"n",1,{', '"n",1,[')), v2!];
  for (const bad of bads) {
    const eager = errOf(() => new ChainReader(1, '').nextRaw(bad));
    assert.is(errOf(() => new LazyFold(emptyFold()).feed(new ChainReader(1, ''), bad)), eager);
  }
});

it('an image that is not JSON (a forged, CRC-sound value): LogCorruptError of its record when the entity is built', () => {
  const [v1] = chain([whole([{ s: 'A', c: 'nodes', id: 'n', before: null, after: node('n', false) }])]);
  const redo = redoOf(v1!);
  const badRedo = redo.replace('"driver":"null-co"', '"driver":null-co');
  const rest = v1!.slice(8, HEADER2) + badRedo.length.toString(16).padStart(8, '0') + badRedo + v1!.substring(HEADER3 + redo.length);
  const bad = crc32(rest).toString(16).padStart(8, '0') + rest;
  assert.throws(() => new ChainReader(1, '').nextRaw(bad), (e: unknown) => e instanceof LogCorruptError);
  lazyWork.lazy = 0;
  const l = new LazyFold(emptyFold());
  l.feed(new ChainReader(1, ''), bad);
  assert.is(lazyWork.lazy, 1, 'read lazily: the image is not parsed yet');
  assert.throws(() => l.materialize(), (e: unknown) => e instanceof LogCorruptError && e.seq === 1);
});

it('a long-lived entity patched by every record keeps at most a few patches pending', () => {
  const made = whole([{ s: 'A', c: 'meta', id: 'proc', before: null, after: { autoName: 0, nbd: null, seq: 0 } }]);
  // the counter's patch has the same members each time: it replaces the one before
  const same: Record<string, unknown>[] = [made];
  for (let i = 1; i <= 40; i++) same.push(whole([{ s: 'A', c: 'meta', id: 'proc', before: { autoName: 0, nbd: null, seq: i - 1 }, after: { autoName: 0, nbd: null, seq: i } }]));
  lazyWork.built = lazyWork.patchesFolded = 0;
  bothWays(chain(same), false);
  assert.is(lazyWork.patchesFolded, 1, 'one patch merged for 40');
  // patches of other members each time pile up to the bound, then the entity is built
  const other: Record<string, unknown>[] = [made];
  for (let i = 1; i <= 40; i++) {
    const before = { autoName: Math.floor((i - 1) / 2), nbd: null, seq: Math.ceil((i - 1) / 2) };
    other.push(whole([{ s: 'A', c: 'meta', id: 'proc', before, after: i % 2 ? { ...before, seq: before.seq + 1 } : { ...before, autoName: before.autoName + 1 } }]));
  }
  lazyWork.built = lazyWork.patchesFolded = 0;
  bothWays(chain(other), false);
  assert.is(lazyWork.patchesFolded, 40, 'every patch merged once');
  assert.ok(lazyWork.built >= 40 / 8, `${lazyWork.built} builds: at most 8 patches pending at a time`);
});

it.run();
