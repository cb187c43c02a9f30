// Names users choose are entity ids: 'toString', 'constructor', 'valueOf', 'hasOwnProperty' are
// well-formed QEMU node names, job ids and iothread ids, and '__proto__' is a legal file name. The
// state keeps collections as plain objects, so each such name must behave exactly as any other
// name (graph/own.ts): the same commands with ordinary names and with these give the same replies,
// and the log replays (from its snapshots too) to the state the engine holds. Before, a node named
// 'toString' was a duplicate of itself and a query crashed the model.
// A process name is ours: one that would shadow Object.prototype is refused before anything is
// written (graph/proc-name.ts); before, `--proc constructor` logged a record no replay could fold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { BadProcessNameError } from '../../errors/index.js';
import { stateHash } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { openMemory } from '../../store/index.js';

// Same relative order in both sets, so every listing sorted by name sorts alike.
const PROTO = { N1: 'toString', N2: 'constructor', N3: 'hasOwnProperty', N4: 'valueOf', N5: 'isPrototypeOf', N6: 'propertyIsEnumerable', F1: '__proto__', F2: 'toLocaleString' };
const PLAIN = { N1: 'tostr', N2: 'cons', N3: 'hasown', N4: 'valof', N5: 'isproto', N6: 'propenum', F1: 'aaproto', F2: 'tolocal' };
type Names = typeof PROTO;

const script = (n: Names): [string, Record<string, unknown>][] => [
  ['x-blockgraph-image-create', { file: n.F1, format: 'qcow2', size: '16M' }],
  ['x-blockgraph-image-create', { file: n.F2, format: 'qcow2', size: '16M', backing: n.F1, 'backing-format': 'qcow2' }],
  ['blockdev-add', { driver: 'qcow2', 'node-name': n.N1, file: { driver: 'file', filename: n.F1 } }],
  ['blockdev-add', { driver: 'qcow2', 'node-name': n.N2, file: { driver: 'file', filename: n.F2 }, backing: n.N1 }],
  ['blockdev-add', { driver: 'qcow2', 'node-name': n.N2, file: { driver: 'file', filename: n.F2 } }],
  ['blockdev-add', { driver: 'null-co', 'node-name': n.N3 }],
  ['object-add', { 'qom-type': 'iothread', id: n.N4 }],
  ['object-add', { 'qom-type': 'iothread', id: n.N4 }],
  ['x-blockdev-set-iothread', { 'node-name': n.N3, iothread: n.N4 }],
  ['block-stream', { device: n.N2, 'job-id': n.N5, speed: 1 }],
  ['block-stream', { device: n.N2, 'job-id': n.N5 }],
  ['query-jobs', {}],
  ['blockdev-add', { driver: 'raw', 'node-name': n.N6, file: n.N3 }],
  ['query-named-block-nodes', { flat: true }],
  ['blockdev-del', { 'node-name': n.N6 }],
  ['blockdev-del', { 'node-name': n.N3 }],
  ['blockdev-del', { 'node-name': n.N3 }],
  ['object-del', { id: n.N4 }],
  ['job-cancel', { id: n.N5 }],
  ['query-named-block-nodes', { flat: true }],
];

async function run(n: Names): Promise<{ replies: string; live: string; replayed: string; reopened: string }> {
  const log = await openMemory();
  let t = 0;
  const e = await Engine.open(log, { clock: () => new Date((t += 1000)).toISOString(), snapshotEvery: 3 });
  const out: string[] = [];
  for (const [c, a] of script(n)) out.push(JSON.stringify((await e.execute('A', c, a)).reply));
  // names back to placeholders: the one difference allowed between the two runs
  let replies = out.join('\n');
  for (const [k, v] of Object.entries(n).sort((a, b) => b[1].length - a[1].length)) replies = replies.split(v).join(`<${k}>`);
  const live = stateHash(e.state);
  const replayed = stateHash((await replay(log)).state);
  const again = await Engine.open(log, { snapshotEvery: 3 });
  return { replies, live, replayed, reopened: stateHash(again.state) };
}

test('names of Object.prototype members behave as any other name', async () => {
  const proto = await run(PROTO);
  const plain = await run(PLAIN);
  assert.is(proto.replies, plain.replies);
  assert.not.match(proto.replies, /internal error|Duplicate nodes with node-name='<N1>'.*\n.*\n/);
  assert.is(proto.replayed, proto.live, 'the log replays to the engine state');
  assert.is(proto.reopened, proto.live, 'reopened from its snapshots');
});

test("a process name that shadows Object.prototype (or is not an id) is refused, nothing logged", async () => {
  for (const proc of ['__proto__', 'constructor', 'toString', '', '1a', 'a b']) {
    const log = await openMemory();
    const e = await Engine.open(log);
    const err = await e.execute(proc, 'blockdev-add', { driver: 'null-co', 'node-name': 'n0' }).then(() => undefined, (x: unknown) => x);
    assert.instance(err, BadProcessNameError, proc);
    assert.is((err as BadProcessNameError).code, 'BG_BAD_INPUT');
    const rej = await e.reject(proc, { error: 'garbage' }).then(() => undefined, (x: unknown) => x);
    assert.instance(rej, BadProcessNameError, proc);
    assert.is(log.head, 0, `nothing written for '${proc}'`);
    await log.close();
  }
});

test.run();
