// The record encoder's templates (store/image-template.ts) read their member lists once per
// template, not per image (issue 15, wt-cmd6): counted, never timed. compactImage made three
// Object.keys arrays of its template per image (defaults, nested, deltas) and one of the image;
// templates() one more per check. Now the template's lists are compiled once and the image's
// own members are walked without an array.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand } from '../../commands/model.js';
import { canonicalJson, encodeFrame } from '../../store/codec.js';
import { equalWork } from '../../store/canonical-equal.js';
import { compactImage, expandImage, imageWork, TEMPLATES_V3 } from '../../store/image-template.js';

/** Object.keys calls while `f` runs. */
function keysCalls(f: () => void): number {
  const orig = Object.keys;
  let n = 0;
  Object.keys = ((o: object) => { n++; return orig(o); }) as typeof Object.keys;
  try { f(); } finally { Object.keys = orig; }
  return n;
}

const addRecord = (name: string) => {
  const r = executeCommand({}, 'A', 'blockdev-add', { driver: 'null-co', 'node-name': name });
  return {
    stream: 'A', at: '1970-01-01T00:00:00.000Z', txn: 't5', type: 'txn.begun', v: 5,
    data: {
      op: 'blockdev-add', args: { driver: 'null-co', 'node-name': name }, plan: r.steps.map((s) => s.name),
      steps: r.steps.map((s) => ({ name: s.name, changes: s.changes })),
      decided: { outcome: 'commit', reply: r.reply, events: [], ended: { stateHash: 'a'.repeat(64) } },
    },
  };
};

test('Object.keys arrays made to store one blockdev-add record', () => {
  encodeFrame(5, addRecord('warm'), 'b'.repeat(64)); // the templates compiled
  const compiledBefore = imageWork.compiled;
  const rec = addRecord('x');
  const n = keysCalls(() => encodeFrame(5, rec, 'b'.repeat(64)));
  assert.is(imageWork.compiled - compiledBefore, 0, 'no template compiled again');
  // 42 before: each templated image (the node, its explicit, the process meta, the decision)
  // read its template's three lists and its own keys, and templates() one list per check; the
  // rest are canonical JSON's (one per object written) and the whole record's shape checks
  assert.ok(n <= 23, `${n} Object.keys calls (was 42)`);
});

test('the stored images are the same: compactImage then expandImage gives the image back', () => {
  const img = { aio: 'main', align: 1, auto: false, driver: 'null-co', explicit: { 'auto-read-only': 'off', 'cache.direct': 'off', 'cache.no-flush': 'off', driver: 'null-co', 'node-name': 'x', 'read-only': 'on' }, filename: 'null-co://', forceShare: false, name: 'x', options: { driver: 'null-co', 'node-name': 'x', 'read-only': 'on', size: 3 }, order: 4, ro: true };
  const c = compactImage(TEMPLATES_V3.nodes!, img);
  // the base's stored form (d1dc400), as canonical JSON
  assert.is(canonicalJson(c), '{"driver":"null-co","explicit":{"read-only":"on"},"filename":"null-co://","name":"x","options":{"p":{"size":3},"u":["auto-read-only","cache.direct","cache.no-flush"]},"order":4,"ro":true,"~":["header","implicit","inheritsFrom","lock","monitor","neverFreeze","unmap"]}');
  assert.equal(expandImage(TEMPLATES_V3.nodes!, JSON.parse(JSON.stringify(c))), img);
  // an inherited member is not the image's own: left out, as Object.keys left it out
  const proto = Object.assign(Object.create({ inherited: 1 }) as Record<string, unknown>, { frozen: true, perm: 0 });
  assert.is(canonicalJson(compactImage(TEMPLATES_V3.edges!, proto)), '{"frozen":true,"~":["shared"]}');
});

test('canonicalEqual calls to store one blockdev-add record: an update\'s members copied over unchanged are not compared by call', () => {
  encodeFrame(5, addRecord('warm2'), 'b'.repeat(64));
  const rec = addRecord('y');
  const before = equalWork.calls;
  encodeFrame(5, rec, 'b'.repeat(64));
  const n = equalWork.calls - before;
  // 22 before: one per member of each update (the process meta's, monitor-ref's node image),
  // most of them the same string, boolean or number copied over; what is left: the members
  // holding objects or null, and the templates' object defaults
  assert.ok(n <= 9, `${n} canonicalEqual calls (was 22)`);
});

test.run();
