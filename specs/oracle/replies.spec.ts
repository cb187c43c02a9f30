import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffReplies, normalizeReply, recordsReply } from '../../oracle/replies.js';
import { parseScenario, parseTranscript } from '../../oracle/format.js';

test('only the block-graph queries keep their reply', () => {
  for (const q of ['query-named-block-nodes', 'query-block', 'query-blockstats', 'query-block-jobs', 'query-jobs', 'query-block-exports', 'x-debug-query-block-graph', 'query-iothreads']) {
    assert.ok(recordsReply(q), q);
  }
  for (const q of ['query-version', 'query-commands', 'blockdev-add', 'human-monitor-command', 'qom-list']) assert.not.ok(recordsReply(q), q);
});

test('a reply is normalised as the graph: temp dir stripped, auto names renamed', () => {
  const rename = new Map([['#block123', 'a.file']]);
  const r = normalizeReply('query-named-block-nodes', [{ 'node-name': '#block123', file: '/tmp/x/a.qcow2', image: { filename: '/tmp/x/a.qcow2', 'actual-size': 200704, 'virtual-size': 1048576 } }], rename, '/tmp/x');
  assert.equal(r, [{ 'node-name': 'a.file', file: 'a.qcow2', image: { filename: 'a.qcow2', 'virtual-size': 1048576 } }]);
});

test('the unstable fields go by name, nothing else', () => {
  const none = new Map<string, string>();
  assert.equal(normalizeReply('query-iothreads', [{ id: 'io0', 'thread-id': 4242, 'poll-max-ns': 32768 }], none),
    [{ id: 'io0', 'poll-max-ns': 32768 }]);
  assert.equal(normalizeReply('query-blockstats', [{ stats: { rd_bytes: 0, rd_total_time_ns: 7, idle_time_ns: 9, wr_highest_offset: 0 } }], none),
    [{ stats: { rd_bytes: 0, wr_highest_offset: 0 } }]);
  // a job still copying loses its progress; a settled one keeps it; a cancelled one (error) loses it
  assert.equal(normalizeReply('query-jobs', [
    { id: 'a', status: 'running', 'current-progress': 5, 'total-progress': 9 },
    { id: 'b', status: 'concluded', 'current-progress': 9, 'total-progress': 9 },
    { id: 'c', status: 'concluded', 'current-progress': 3, 'total-progress': 9, error: 'Operation canceled' },
  ], none), [{ id: 'a', status: 'running' }, { id: 'b', status: 'concluded', 'current-progress': 9, 'total-progress': 9 }, { id: 'c', status: 'concluded', error: 'Operation canceled' }]);
  assert.equal(normalizeReply('query-block-jobs', [{ device: 'j', status: 'paused', offset: 1, len: 2, busy: true, speed: 1 }, { device: 'm', status: 'ready', offset: 2, len: 2, busy: false }], none),
    [{ device: 'j', status: 'paused', speed: 1 }, { device: 'm', status: 'ready', offset: 2, len: 2, busy: false }]);
  // LUKS header randomness and the PBKDF benchmark; vmdk's random CID; snapshot dates
  assert.equal(normalizeReply('query-named-block-nodes', [{ image: { 'format-specific': { type: 'luks', data: { uuid: 'u', 'master-key-iters': 1000, 'payload-offset': 2097152, slots: [{ active: true, iters: 9, stripes: 4000 }] } } } }], none),
    [{ image: { 'format-specific': { type: 'luks', data: { 'payload-offset': 2097152, slots: [{ active: true, stripes: 4000 }] } } } }]);
  assert.equal(normalizeReply('query-named-block-nodes', [{ image: { snapshots: [{ id: '1', name: 's', 'date-sec': 1, 'date-nsec': 2, 'vm-state-size': 0 }], 'format-specific': { type: 'vmdk', data: { cid: 1, 'parent-cid': 2, 'create-type': 'monolithicSparse' } } } }], none),
    [{ image: { snapshots: [{ id: '1', name: 's', 'vm-state-size': 0 }], 'format-specific': { type: 'vmdk', data: { 'create-type': 'monolithicSparse' } } } }]);
});

test('diffReplies: member order does not count, list order and values do', () => {
  assert.equal(diffReplies({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), []);
  assert.equal(diffReplies([{ a: 1 }, { a: 2 }], [{ a: 2 }, { a: 1 }]), ['[0].a: expected 1, got 2', '[1].a: expected 2, got 1']);
  assert.equal(diffReplies({ a: 1 }, { a: 1, c: 'x' }), ['.c: expected absent, got "x"']);
  assert.equal(diffReplies([1], [1, 2]), ['.: expected 1 entries, got 2']);
});

test('the member is opt-in: true or absent, and a non-string return only with it', () => {
  const base = { name: 'x', description: 'd', covers: ['a'], images: [], steps: [{ execute: 'query-jobs' }] };
  assert.is(parseScenario({ ...base, replies: true }).replies, true);
  assert.is(parseScenario(base).replies, undefined);
  assert.throws(() => parseScenario({ ...base, replies: false }), /replies/);
  const t = { format: 'blockgraph-oracle/1', qemu: 'q', ...base, steps: [{ proc: 'A', execute: 'query-jobs', arguments: {}, result: { ok: true, return: [] }, events: [] }] };
  assert.equal((parseTranscript({ ...t, replies: true }).steps[0] as { result: unknown }).result, { ok: true, return: [] });
  assert.throws(() => parseTranscript(t), /return/);
});

test.run();
