// Issue 15, replay: a collection applyChangesInPlace makes is in V8's dictionary mode from the
// start (graph/apply.ts newCollection), so entity ids are table entries, not hidden-class
// transitions off the empty object's (the cost replay of add/del paid at every pair). Checked
// with V8's own predicate, not a clock. The state stays plain JSON with Object's prototype.
import { setFlagsFromString } from 'node:v8';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyChangesInPlace } from '../../graph/apply.js';
import type { Change } from '../../graph/draft.js';
import type { State } from '../../graph/types.js';

setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

test('a collection made by applyChangesInPlace is a dictionary, with a plain prototype and the same JSON', () => {
  assert.ok(hasFastProperties({}), 'the predicate tells an object literal');
  const s: State = {};
  const add = (id: string): Change => ({ s: 'A', c: 'nodes', id, before: null, after: { name: id } } as Change);
  applyChangesInPlace(s, [add('n0'), add('n1')]);
  const nodes = s.A!.nodes!;
  assert.is(hasFastProperties(nodes), false, 'nodes is in dictionary mode');
  assert.is(Object.getPrototypeOf(nodes), Object.prototype);
  assert.is(JSON.stringify(s), '{"A":{"nodes":{"n0":{"name":"n0"},"n1":{"name":"n1"}}}}');
  assert.equal(s, { A: { nodes: { n0: { name: 'n0' }, n1: { name: 'n1' } } } });
});

test.run();
