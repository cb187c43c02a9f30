// Work a QMP command costs at the monitor that does not depend on what it does (issue 15,
// wt-cmd2), counted, never timed: the QDict order of a key list (commands/schema/ghash.ts, a
// tdb hash per key) is computed once per distinct list, not for every request, its arguments
// and its reply; the order is the same either way.
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { qdictOrder, qdictWork } from '../../commands/schema/ghash.js';
import { serveQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';

test('a run of blockdev-add/del computes no QDict order after the first of each shape', async () => {
  const e = await Engine.open(await openMemory());
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: string[] = [];
  let buf = '';
  output.on('data', (b: Buffer) => {
    buf += b.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i).trim()); buf = buf.slice(i + 1); }
  });
  const served = serveQmp(e, input, output, { now: () => 0 });
  const ask = async (o: object) => {
    const n = lines.length;
    input.write(JSON.stringify(o) + '\n');
    for (let k = 0; k < 1000 && lines.length === n; k++) await new Promise((r) => setImmediate(r));
    return JSON.parse(lines[lines.length - 1]!) as { return?: unknown; error?: unknown };
  };
  await ask({ execute: 'qmp_capabilities' });
  const computed: number[] = [];
  for (let i = 0; i < 6; i++) {
    const before = qdictWork.computed;
    const add = await ask({ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': `n${i}` }, id: i });
    const del = await ask({ execute: 'blockdev-del', arguments: { 'node-name': `n${i}` }, id: i });
    assert.ok(add.return && del.return, JSON.stringify([add, del]));
    computed.push(qdictWork.computed - before);
  }
  assert.equal(computed.slice(1), [0, 0, 0, 0, 0], 'later commands of the same shapes: none');
  input.end();
  await served;
});

test('the order of a list is the same from the cache, and a caller cannot change the cached one', () => {
  const keys = ['execute', 'arguments', 'id', 'a\u0000b'];
  const first = qdictOrder(keys);
  first.reverse();
  assert.equal(qdictOrder(keys), [...first].reverse());
  // lists that a join with NUL would confuse are kept apart
  assert.not.equal(qdictOrder(['a\u0000b']), qdictOrder(['a', 'b']));
});

test('past the cache bound the orders are still QDict\'s (buckets ascending, newest first in a bucket)', async () => {
  const { tdbHash } = await import('../../graph/tdb-hash.js');
  const reference = (keys: string[]) => keys.map((k, i) => ({ k, i, b: tdbHash(k) % 512 })).sort((x, y) => x.b - y.b || y.i - x.i).map((x) => x.k);
  for (let i = 0; i < 3000; i++) {
    const keys = [`k${i}`, `m${i % 7}`, 'id', `x${i * 31}`].slice(0, 1 + (i % 4));
    assert.equal(qdictOrder(keys), reference(keys), keys.join(','));
    assert.equal(qdictOrder(keys), reference(keys));
  }
});

test.run();
