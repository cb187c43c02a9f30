// Work of validateCommand per command (issue 15, wt-cmd5), counted, never timed: a type's
// members are read from the QAPI table once, not as a fresh Object.entries array (with a pair
// and a slice per member) on every command. Before: 2 Object.entries per blockdev-add
// (BlockdevOptions, BlockdevOptionsNull), 1 per blockdev-del.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateCommand } from '../../commands/schema/index.js';

function entriesCalls(fn: () => void): number {
  const orig = Object.entries;
  let n = 0;
  Object.entries = ((o: object) => { n++; return orig(o); }) as typeof Object.entries;
  try { fn(); } finally { Object.entries = orig; }
  return n;
}

test('blockdev-add and blockdev-del validate without an Object.entries per command', () => {
  validateCommand('blockdev-add', { driver: 'null-co', 'node-name': 'w' }); // the table read once
  validateCommand('blockdev-del', { 'node-name': 'w' });
  const n = entriesCalls(() => {
    for (let i = 0; i < 50; i++) {
      const a = validateCommand('blockdev-add', { driver: 'null-co', 'node-name': `n${i}`, 'read-only': true });
      assert.ok(a.ok && (a.value as Record<string, unknown>)['read-only'] === true);
      assert.ok(validateCommand('blockdev-del', { 'node-name': `n${i}` }).ok);
    }
  });
  assert.is(n, 0);
});

test('the answers are unchanged: optional members absent, the first unexpected key named', () => {
  const a = validateCommand('blockdev-add', { driver: 'null-co', 'node-name': 'x' });
  assert.equal(a, { ok: true, value: { driver: 'null-co', 'node-name': 'x' } });
  assert.equal(validateCommand('blockdev-add', { driver: 'null-co', 'node-name': 'x', bogus: 1 }), { ok: false, class: 'GenericError', desc: "Parameter 'bogus' is unexpected" });
  assert.equal(validateCommand('blockdev-del', {}), { ok: false, class: 'GenericError', desc: "Parameter 'node-name' is missing" });
});

test.run();
