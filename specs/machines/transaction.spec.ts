// The generic transaction statechart: QEMU util/transactions.c order (LIFO commit/abort,
// clean last, LIFO too) and the log protocol it enforces for replay and recovery.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TXN_TABLE, protocolNext, recoveryAction, txnNext, txnStart, type TxnEvent, type TxnState } from '../../machines/transaction.js';

const add = (name: string, seq: number) => ({ type: 'ADD' as const, action: { name, seq } });

test('commit runs every commit newest first, then every clean newest first (tran_commit)', () => {
  let s = txnStart('t1', 'op');
  for (const [i, n] of ['a', 'b', 'c'].entries()) s = txnNext(s, add(n, i + 2));
  s = txnNext(s, { type: 'COMMIT' });
  assert.ok(s.matches('committed'));
  assert.equal(s.context.calls, ['commit:c', 'commit:b', 'commit:a', 'clean:c', 'clean:b', 'clean:a']);
});

test('abort runs every abort newest first, then clean (tran_abort)', () => {
  let s = txnStart('t1', 'op');
  s = txnNext(s, add('x', 2));
  s = txnNext(s, add('y', 3));
  s = txnNext(s, { type: 'ABORT' });
  assert.equal(s.context.calls, ['abort:y', 'abort:x', 'clean:y', 'clean:x']);
});

test('recovery decisions: presumed abort, roll forward after a commit decision', () => {
  let s = txnStart('t1', 'op');
  assert.is(recoveryAction(s), 'roll-back');
  s = txnNext(s, add('x', 2));
  assert.is(recoveryAction(s), 'roll-back');
  const committed = txnNext(s, { type: 'COMMIT' });
  assert.is(recoveryAction(committed), 'roll-forward');
  assert.is(recoveryAction(txnNext(committed, { type: 'END' })), 'none');
  const aborted = txnNext(txnNext(s, { type: 'COMPENSATE', seq: 2 }), { type: 'ABORT' });
  assert.equal(aborted.context.compensated, [2]);
  assert.is(recoveryAction(aborted), 'end-abort');
});

test('protocol violations are caught: a step after the decision, an end before it', () => {
  let s = txnStart('t1', 'op');
  s = txnNext(txnNext(s, add('x', 2)), { type: 'COMMIT' });
  const late = txnNext(s, add('y', 4));
  assert.ok(late.matches('invalid'));
  assert.is(recoveryAction(late), 'corrupt');
  const early = txnNext(txnStart('t2', 'op'), { type: 'END' });
  assert.ok(early.matches('invalid'));
  assert.ok(txnNext(s, { type: 'COMPENSATE', seq: 2 }).matches('invalid'), 'a committed step is never compensated');
});

test('the machine is pure: the same events give the same snapshot', () => {
  const run = () => JSON.stringify(txnNext(txnNext(txnStart('t', 'o'), add('a', 1)), { type: 'COMMIT' }).context);
  assert.is(run(), run());
});

test('the fast protocol table and the xstate machine agree on every state and event', () => {
  const events: TxnEvent[] = [add('x', 2), { type: 'COMPENSATE', seq: 2 }, { type: 'COMMIT' }, { type: 'ABORT' }, { type: 'END' }];
  // reach each non-final state through the machine, then try every event from it
  const reach: Record<string, TxnEvent[]> = { preparing: [], committed: [{ type: 'COMMIT' }], aborted: [{ type: 'ABORT' }] };
  let checked = 0;
  for (const [state, path] of Object.entries(reach)) {
    let s = txnStart('t', 'o');
    for (const e of path) s = txnNext(s, e);
    assert.is(s.value, state);
    for (const e of events) {
      assert.is(txnNext(s, e).value, protocolNext(state as TxnState, e.type), `${state} + ${e.type}`);
      checked++;
    }
  }
  assert.is(checked, 15);
  assert.equal(Object.keys(TXN_TABLE).sort(), ['aborted', 'committed', 'ended', 'invalid', 'preparing']);
});

test.run();
