// diff between two points of a recorded history, and one node's history. Expected changes
// are derived by hand from QEMU 7.2's permission rules (bdrv_default_perms_for_cow and
// _for_storage, cor_child_perm) for the commands recordHistory runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { State } from '../../graph/types.js';
import { diffStates, diffText, type DiffEntry } from '../../replay/diff.js';
import { nodeHistory } from '../../replay/history.js';
import { replay } from '../../replay/replay.js';
import { openMemory, type EventLog, type LogRecord } from '../../store/index.js';
import { recordHistory, type History } from './helpers.js';

let log: EventLog;
let h: History;
let records: LogRecord[];
const at = async (seq: number): Promise<State> => (await replay(log, { upTo: seq })).state;
const lines = (es: DiffEntry[]) => es.map((e) => `${e.change} ${e.kind} ${e.label}: ${e.text.join('; ')}`).sort();

test.before(async () => {
  log = await openMemory();
  h = await recordHistory(log);
  records = await log.readAll();
});

test('the export: its BB, root edge and export appear; R is passed down both backing links; nothing else', async () => {
  const d = diffStates(await at(h.marks.nbd!), await at(h.marks.export!));
  assert.equal(lines(d.entries), [
    'added bb blk(export e0): added RW/RWU',
    'added edge blk(export e0) -[root]-> top: attached RW/RWU',
    'added export e0: added nbd on top writable',
    'changed edge mid -[backing]-> base: perm - -> R',
    'changed edge top -[backing]-> mid: perm - -> R',
  ]);
  assert.equal(d.counts.aspects, { perms: 2 });
  assert.equal(d.counts.kinds, { edge: 3, bb: 1, export: 1 });
});

test('an iothread move is an AioContext change of that node only', async () => {
  const d = diffStates(await at(h.marks.n0!), await at(h.marks.moved!));
  assert.equal(lines(d.entries), ['changed node n0: aio main -> io0']);
  assert.equal(d.entries[0]!.fields.map((f) => f.aspect), ['aio']);
});

test('the stream job: filter inserted above top, links frozen down to the node above base, shared perms narrowed', async () => {
  const d = diffStates(await at(h.marks.moved!), await at(h.marks.stream!));
  const l = lines(d.entries);
  assert.ok(l.includes('added node cor: added copy-on-read'), l.join('\n'));
  assert.ok(l.includes('added job j0: added stream running'));
  // bdrv_insert_node: the export's BB now points at the filter
  assert.ok(l.includes('changed edge blk(export e0) -[root]-> cor: child top -> cor'), 'the re-attach order is not a line of its own');
  // cor passes W|U down: top's data child gets them on top of the metadata R|W|Z; the lock follows
  assert.ok(l.includes('changed edge top -[file]-> topf: perm RWZ -> RWUZ'));
  assert.ok(l.includes('changed node topf: lock.perm RWZ -> RWUZ'));
  // cor_child_perm: perm & (R|W|Z) | U, shared & (R|W|Z) | U; frozen from the filter down to mid
  assert.ok(l.includes('added edge cor -[file]-> top: attached RWU/RWU frozen'));
  const topBacking = d.entries.find((e) => e.label === 'top -[backing]-> mid')!;
  assert.equal(topBacking.fields.map((f) => `${f.aspect} ${f.path} ${f.before} -> ${f.after}`), ['frozen frozen false -> true']);
  // the job's "intermediate node" child on mid shares R|U only: no W, so the cow rule drops W|Z
  const midBacking = d.entries.find((e) => e.label === 'mid -[backing]-> base')!;
  assert.equal(midBacking.text, ['shared RWUZ -> RU']);
  assert.ok(!d.entries.some((e) => e.label === 'mid -[backing]-> base' && e.fields.some((f) => f.aspect === 'frozen')), 'the link to base stays unfrozen');
});

test('recovery undoes the cut transaction completely; the cut state itself had the node', async () => {
  assert.equal(diffStates(await at(h.marks.iothread!), await at(h.marks.recovered!)).entries, []);
  assert.is(diffText(diffStates(await at(h.marks.iothread!), await at(h.marks.recovered!))), '(no differences)');
  assert.equal(lines(diffStates(await at(h.marks.cut!), await at(h.marks.recovered!)).entries), ['removed node n0: removed null-co ro file=null-co://']);
});

test('diff text: grouped by process, + - ~ marks', async () => {
  const t = diffText(diffStates(await at(h.marks.nbd!), await at(h.marks.export!)));
  assert.match(t, /^process A:\n/);
  assert.match(t, /\n {2}\+ export e0 {2}nbd on top writable/);
  assert.match(t, /\n {2}~ edge top -\[backing\]-> mid\n {6}perm - -> R/);
});

test('history of n0: the cut add, its compensation (newest first), the add again, the move', () => {
  const e = nodeHistory(records, 'n0');
  assert.equal(e.map((x) => `${x.txn} ${x.type} ${x.command} / ${x.step}`), [
    `${h.crashedTxn} txn.step blockdev-add / open n0 (null-co)`,
    `${h.crashedTxn} txn.step blockdev-add / monitor-ref`,
    `${h.crashedTxn} txn.compensated blockdev-add / undo monitor-ref`,
    `${h.crashedTxn} txn.compensated blockdev-add / undo open n0 (null-co)`,
    `${e[4]!.txn} txn.step blockdev-add / open n0 (null-co)`,
    `${e[5]!.txn} txn.step blockdev-add / monitor-ref`,
    `${e[6]!.txn} txn.step x-blockdev-set-iothread / ${e[6]!.step}`,
  ]);
  assert.is.not(e[4]!.txn, h.crashedTxn);
  assert.equal(e[1]!.changes.map((c) => c.what.join('; ')), ['monitor false -> true']);
  assert.equal(e[2]!.changes.map((c) => c.what.join('; ')), ['monitor true -> false'], 'an undo reads after -> before');
  assert.equal(e[3]!.changes.map((c) => c.what.join('; ')), ['removed null-co ro file=null-co://']);
  assert.equal(e[6]!.changes.map((c) => c.what.join('; ')), ['aio main -> io0']);
  assert.equal(nodeHistory(records, 'n0', 'B'), []);
});

test('history of mid: edges to and from it count, including perm changes made for other nodes', () => {
  const e = nodeHistory(records, 'mid');
  const cmds = [...new Set(e.map((x) => x.command))];
  assert.equal(cmds, ['blockdev-add', 'block-export-add', 'block-stream']);
  const exp = e.filter((x) => x.command === 'block-export-add').flatMap((x) => x.changes.map((c) => `${c.entity}: ${c.what.join('; ')}`)).sort();
  assert.equal(exp, ['A edge mid -[backing]-> base: perm - -> R', 'A edge top -[backing]-> mid: perm - -> R']);
});

test.run();
