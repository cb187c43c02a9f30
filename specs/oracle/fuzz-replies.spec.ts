// Stop 41: the live fuzzer compares what the block queries return (a case is a `"replies": true`
// scenario; oracle/fuzz/families/queries.ts draws the queries, the vm grammar HMP's `info`). A
// model that answers a query wrongly while agreeing on outcome, error text and graph must be a
// `reply` finding, shrunk to a scenario that keeps the query step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';
import type { ExecResult } from '../../commands/index.js';
import { compareSteps } from '../../oracle/compare.js';
import type { Json, Scenario, TranscriptStep } from '../../oracle/format.js';
import { qsdAvailable } from '../../oracle/qsd.js';
import { RECORDED_QUERIES } from '../../oracle/replies.js';
import { FUZZ_IMAGES, Generator, ImageCache, Rng, World, firstDisagreement, runCase, runFixed, shrink } from '../../oracle/fuzz/index.js';
import { VmGenerator } from '../../oracle/fuzz/grammar-vm.js';

const graph = { nodes: [{ name: 'n0', driver: 'null-co', ro: false }], parents: [], edges: [] };
const step = (ret: Json, g = graph): TranscriptStep => ({ proc: 'A', execute: 'query-named-block-nodes', arguments: {}, result: { ok: true, return: ret }, events: [], graph: g });

test('a reply that differs alone is a reply finding; with the graph it is a graph one', () => {
  const f = firstDisagreement([compareSteps(3, step([{ 'node-name': 'n0', ro: false }]), step([{ 'node-name': 'n0', ro: true }]))]);
  assert.equal(f && { category: f.category, step: f.step, command: f.command }, { category: 'reply', step: 3, command: 'query-named-block-nodes' });
  assert.match(f!.message, /^reply \[0\]\.ro: expected false, got true/);
  const g2 = { ...graph, nodes: [{ name: 'n0', driver: 'null-co', ro: true }] };
  assert.is(firstDisagreement([compareSteps(3, step([{ ro: false }]), step([{ ro: true }], g2))])?.category, 'graph');
  assert.is(firstDisagreement([compareSteps(3, step([{ ro: false }]), step([{ ro: false }]))]), undefined);
  // HMP's `info` text (an hmp-text case) differing is a reply finding too, not an error text
  const hmp = (text: string): TranscriptStep => ({ proc: 'A', execute: 'human-monitor-command', arguments: { 'command-line': 'info block' }, result: { ok: true, return: text }, events: [], graph });
  assert.is(firstDisagreement([compareSteps(0, hmp('a\r\n'), hmp('b\r\n'))])?.category, 'reply');
});

test('the generator draws every recorded query between its mutations; the vm one HMP info too', () => {
  const seen = new Set<string>();
  let mutations = 0;
  for (const seed of [1, 2, 3, 4]) {
    const g = new Generator(new Rng(seed), new World());
    for (let i = 0; i < 400; i++) {
      const s = g.next();
      if (!s || 'wait' in s) continue;
      if (RECORDED_QUERIES.has(s.execute)) seen.add(s.execute);
      else mutations++;
    }
  }
  assert.equal([...seen].sort(), [...RECORDED_QUERIES].sort());
  assert.ok(mutations > 1000);
  const lines = new Set<string>();
  const v = new VmGenerator(new Rng(5), new World(), '7.2');
  for (let i = 0; i < 2000; i++) {
    const s = v.next();
    if (s && !('wait' in s) && s.execute === 'human-monitor-command') lines.add(String(s.arguments?.['command-line']).split(' ').slice(0, 2).join(' '));
  }
  assert.ok(lines.has('info block') && lines.has('info blockstats'), [...lines].join(', '));
});

/** The model, except that query-blockstats says every node read 7 times. */
class WrongStats extends MemoryBackend {
  override async execute(proc: string, command: string, args?: Record<string, unknown>): Promise<ExecResult> {
    const r = await super.execute(proc, command, args);
    if (command !== 'query-blockstats' || !('return' in r.reply)) return r;
    const ret = (JSON.parse(JSON.stringify(r.reply.return)) as { stats: Record<string, unknown> }[]).map((e) => ({ ...e, stats: { ...e.stats, rd_operations: 7 } }));
    return { ...r, reply: { ...r.reply, return: ret } };
  }
}

if (!qsdAvailable()) {
  console.log('skipped: qemu-storage-daemon not installed');
  test('live replies (skipped: qemu-storage-daemon not installed)', () => undefined);
} else {
  const scenario: Scenario = {
    name: 'fuzz-replies-spec', description: 'a null node, a file node, the node stats', covers: ['fuzz'], replies: true,
    images: FUZZ_IMAGES.map((i) => ({ ...i })),
    steps: [
      { execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n0', 'read-zeroes': true } },
      { execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f1', filename: 'r.raw' } },
      { execute: 'query-named-block-nodes', arguments: { flat: true } },
      { execute: 'query-blockstats', arguments: { 'query-nodes': true } },
    ],
  };

  test('a wrong reply is caught and shrunk to a scenario that keeps the query; the model itself agrees', async () => {
    const images = new ImageCache();
    try {
      const good = await runFixed(scenario, { images });
      assert.is(good.finding, undefined, JSON.stringify(good.finding));
      // the recorded transcript holds QEMU's normalised replies
      assert.is(good.qsd?.replies, true);
      const q = good.qsd!.steps[3]!;
      assert.ok(!('wait' in q) && q.result.ok && Array.isArray(q.result.return) && q.result.return.length === 2, JSON.stringify(q));

      const run = { images, modelBackend: () => new WrongStats() };
      const bad = await runFixed(scenario, run);
      assert.equal(bad.finding && { category: bad.finding.category, step: bad.finding.step, command: bad.finding.command }, { category: 'reply', step: 3, command: 'query-blockstats' });
      assert.match(bad.finding!.message, /^reply \[\d\]\.stats\.rd_operations: expected 0, got 7/);
      const { scenario: small } = await shrink(scenario, bad.finding!, { test: async (s) => (await runFixed(s, run)).finding, budget: 20 });
      const last = small.steps[small.steps.length - 1]!;
      assert.ok(!('wait' in last) && last.execute === 'query-blockstats', JSON.stringify(small.steps));
      assert.ok(small.steps.length < scenario.steps.length);
    } finally {
      await images.dispose();
    }
  });

  test('a generated case records its queries\' replies (both sides through the one normaliser)', async () => {
    const images = new ImageCache();
    try {
      let queries = 0;
      for (let seed = 11; seed < 14; seed++) {
        const r = await runCase(seed, 25, { images });
        assert.is(r.qsd?.replies, true);
        for (const s of r.qsd?.steps ?? []) if (!('wait' in s) && RECORDED_QUERIES.has(s.execute) && s.result.ok) { queries++; assert.ok('return' in s.result, s.execute); }
      }
      assert.ok(queries > 0);
    } finally {
      await images.dispose();
    }
  });
}

test.run();
