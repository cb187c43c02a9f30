// The AioContext statechart: visit → drain → commit | abort → clean, with tran_commit's
// LIFO order for commit and clean (util/transactions.c, reference §9).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aioNext, aioRecovery, aioStart } from '../../machines/aio-context.js';

const acts = [
  { kind: 'node' as const, id: 'top' },
  { kind: 'bb' as const, id: 'bb1' },
  { kind: 'node' as const, id: 'base' },
];

test('a successful move: drains in registration order, commits and cleans LIFO', () => {
  let s = aioStart('main', 'io0');
  assert.ok(s.matches('visit'));
  assert.is(aioRecovery(s), 'roll-back');
  s = aioNext(s, { type: 'VISITED', actions: acts });
  assert.ok(s.matches('drain'));
  s = aioNext(s, { type: 'DRAINED' });
  assert.ok(s.matches('commit'));
  assert.is(aioRecovery(s), 'roll-forward');
  s = aioNext(s, { type: 'DONE' });
  assert.ok(s.matches('done'));
  assert.equal(s.context.calls, [
    'drain:node:top', 'drain:node:base',
    'commit:node:base', 'commit:bb:bb1', 'commit:node:top',
    'clean:node:base', 'clean:node:top',
  ]);
});

test('a refusal: abort (nothing commits), then the drained nodes are cleaned', () => {
  let s = aioStart('main', 'io0');
  s = aioNext(s, { type: 'REFUSED', error: 'Cannot change iothread of active block backend', actions: acts.slice(0, 1) });
  assert.ok(s.matches('abort'));
  s = aioNext(s, { type: 'DONE' });
  assert.ok(s.matches('done'));
  assert.is(s.context.error, 'Cannot change iothread of active block backend');
  assert.equal(s.context.calls, ['abort:node:top', 'clean:node:top']);
  assert.ok(!s.context.calls.some((c) => c.startsWith('commit')));
});

test('events out of order are ignored (no commit before the drain)', () => {
  let s = aioStart('main', 'io0');
  s = aioNext(s, { type: 'DONE' });
  assert.ok(s.matches('visit'));
  s = aioNext(s, { type: 'VISITED', actions: acts });
  s = aioNext(s, { type: 'DONE' });
  assert.ok(s.matches('drain'));
});

test.run();
