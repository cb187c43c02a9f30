// audit rows over a recorded history: one row per transaction, refusal and recovery; the
// filters. Expected rows follow from the commands recordHistory runs and QEMU 7.2's rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditRows, filterAudit, type AuditRow } from '../../replay/audit.js';
import { openMemory } from '../../store/index.js';
import type { LogRecord } from '../../store/index.js';
import { recordHistory, type History } from './helpers.js';

let records: LogRecord[] = [];
let h: History;
let rows: AuditRow[] = [];

test.before(async () => {
  const log = await openMemory();
  h = await recordHistory(log);
  records = await log.readAll();
  rows = auditRows(records);
});

const brief = (r: AuditRow) => `${r.kind} ${r.command} ${r.outcome}`;

test('one row per command, in order; the refusal carries QEMU\'s error; the cut transaction and its recovery', () => {
  assert.equal(rows.map(brief), [
    'transaction x-blockgraph-image-create committed',
    'transaction x-blockgraph-image-create committed',
    'transaction x-blockgraph-image-create committed',
    'transaction blockdev-add committed',
    'transaction blockdev-add committed',
    'transaction blockdev-add committed',
    'rejected blockdev-del rejected',
    'transaction nbd-server-start committed',
    'transaction block-export-add committed',
    'transaction object-add committed',
    'transaction blockdev-add rolled-back',
    'recovery blockdev-add rolled-back',
    'transaction blockdev-add committed',
    'transaction x-blockdev-set-iothread committed',
    'transaction block-stream committed',
  ]);
  const rej = rows[6]!;
  // QEMU: blockdev-del checks BLOCK_OP_TYPE_DRIVE_DEL; bdrv_set_backing_hd blocks it with this reason.
  assert.equal(rej.error, { class: 'GenericError', desc: "Node 'base' is busy: node is used as backing hd of 'mid'" });
  assert.equal(rej.args, { 'node-name': 'base' });
  assert.is(rej.at, '2026-01-01T00:00:07.000Z');
  assert.equal(rej.touched, []);
  const cut = rows[10]!;
  assert.is(cut.txn, h.crashedTxn);
  assert.equal(cut.steps, ['open n0 (null-co)', 'monitor-ref']);
  assert.is(cut.recovery?.action, 'rolled-back');
  const rec = rows[11]!;
  assert.is(rec.recovers, h.crashedTxn);
  // compensations run newest first (tran_abort is LIFO)
  assert.equal(rec.steps, ['undo monitor-ref', 'undo open n0 (null-co)']);
  assert.ok(rec.types.includes('txn.compensated') && rec.types.includes('txn.ended'));
  assert.is(rec.at, '2026-01-01T00:00:12.000Z', 'recovery happened when the store was reopened');
  // every record of the log belongs to exactly one row (recovery records are also listed on the txn they finish)
  const own = new Set(rows.filter((r) => r.kind !== 'recovery').flatMap((r) => r.seqs));
  assert.is(own.size, records.length);
});

test('touched entities of a transaction: the export touches the backing links whose perms it raised', () => {
  const exp = rows.find((r) => r.command === 'block-export-add')!;
  // the export's BB takes R|W on top; bdrv_default_perms_for_cow passes R down each backing link
  assert.equal([...exp.touched].sort(), [
    'A bb blk(export e0)', 'A edge blk(export e0) -[root]-> top', 'A edge mid -[backing]-> base', 'A edge top -[backing]-> mid', 'A export e0',
  ].sort());
});

test('--node: transactions whose steps touched the node or an edge to/from it', () => {
  const cmds = (f: Parameters<typeof filterAudit>[1]) => filterAudit(rows, f).map((r) => `${r.seq}:${r.command}`);
  // base: its own add, mid's backing link to it, the export raising that link's perm to R, and
  // the stream job, whose "intermediate node" child on mid shares only R|U so the cow rule
  // drops W|Z from mid -> base's shared perms
  const base = filterAudit(rows, { node: 'base' }).map((r) => r.command);
  assert.equal(base, ['blockdev-add', 'blockdev-add', 'block-export-add', 'block-stream']);
  assert.not.ok(base.includes('blockdev-del'), 'a refusal touched nothing');
  assert.equal(cmds({ node: 'n0' }).map((s) => s.split(':')[1]), ['blockdev-add', 'blockdev-add', 'blockdev-add', 'x-blockdev-set-iothread'],
    'the cut add, its recovery, the add again, the move');
  assert.equal(cmds({ node: 'n0', types: ['recovery'] }).length, 1);
  assert.equal(cmds({ node: 'nosuch' }), []);
  assert.equal(cmds({ node: 'n0', proc: 'B' }), []);
});

test('--type, --txn, --since/--until, --proc', () => {
  assert.equal(filterAudit(rows, { types: ['command.rejected'] }).map((r) => r.command), ['blockdev-del']);
  assert.equal(filterAudit(rows, { types: ['txn.compensated'] }).map((r) => r.kind), ['transaction', 'recovery']);
  assert.equal(filterAudit(rows, { txn: h.crashedTxn }).map((r) => r.kind), ['transaction', 'recovery']);
  assert.equal(filterAudit(rows, { since: '2026-01-01T00:00:13.000Z', until: '2026-01-01T00:00:14.000Z' }).map((r) => r.command),
    ['blockdev-add', 'x-blockdev-set-iothread']);
  assert.is(filterAudit(rows, { proc: 'A' }).length, rows.length);
  assert.is(filterAudit(rows, { proc: 'B' }).length, 0);
});

test.run();
