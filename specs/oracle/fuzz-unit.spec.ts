// The fuzzer's parts that need no daemon: seeded randomness, the abort guards, the generator's
// determinism, delta debugging and the known-disagreements matching.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, knownAbort, maskNames, matchKnown, caseSeed, closeDependencies, Rng, shrink, World, type Finding } from '../../oracle/fuzz/index.js';
import type { NormGraph, Scenario, Step } from '../../oracle/format.js';

const edge = (parent: string, name: string, child: string) => ({ parent, name, child, perm: [], shared: [] });
const node = (name: string, driver = 'qcow2') => ({ name, driver, ro: false });

test('Rng: the same seed gives the same stream, another seed another one', () => {
  const a = new Rng(42); const b = new Rng(42); const c = new Rng(43);
  const xs = Array.from({ length: 20 }, () => a.next());
  assert.equal(Array.from({ length: 20 }, () => b.next()), xs);
  assert.not.equal(Array.from({ length: 20 }, () => c.next()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.is.not(caseSeed(1, 0), caseSeed(1, 1));
  assert.is(caseSeed(7, 3), caseSeed(7, 3));
});

test('the generator is deterministic from its seed over the same graph', () => {
  const run = (seed: number) => {
    const g = new Generator(new Rng(seed), new World());
    return JSON.stringify(Array.from({ length: 30 }, () => g.next()));
  };
  assert.is(run(5), run(5));
  assert.is.not(run(5), run(6));
});

test('crash 1: an empty reopen list is an abort', () => {
  const w = new World();
  assert.match(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [] } }, w.proc('A')) ?? '', /crash 1/);
});

test('crash 2: moving a backing away from a commit filter is an abort; keeping it is not', () => {
  const w = new World();
  const p = w.proc('A');
  p.graph = { nodes: [node('top'), node('cf', 'commit_top'), node('mid')], parents: [], edges: [edge('top', 'backing', 'cf'), edge('cf', 'backing', 'mid')] } as NormGraph;
  assert.match(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'top', backing: null }] } }, p) ?? '', /crash 2/);
  assert.is(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'top', backing: 'cf' }] } }, p), undefined);
});

test('crash 3: dropping a backing whose own backing is its file node is an abort', () => {
  const w = new World();
  const p = w.proc('A');
  p.graph = { nodes: [node('top'), node('x'), node('xf', 'file')], parents: [], edges: [edge('top', 'backing', 'x'), edge('x', 'file', 'xf'), edge('x', 'backing', 'xf')] } as NormGraph;
  assert.match(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'top', backing: null }] } }, p) ?? '', /crash 3/);
  assert.is(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'top', backing: 'x' }] } }, p), undefined);
});

test('crash 6: a reopen that frees a node it queued is an abort; with a monitor reference or another parent it is not', () => {
  const w = new World();
  const p = w.proc('A');
  // a's backing b was opened inline (named, but only a holds it)
  p.graph = { nodes: [node('a'), node('b'), node('c')], parents: [], edges: [edge('a', 'backing', 'b')] } as NormGraph;
  p.monitorOwned.add('a');
  const list: Step = { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'a', backing: null }, { driver: 'qcow2', 'node-name': 'b' }] } };
  assert.match(knownAbort(list, p) ?? '', /crash 6/);
  // not queued: fine
  assert.is(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'a', backing: null }] } }, p), undefined);
  // another parent keeps b
  p.graph = { ...p.graph, edges: [edge('a', 'backing', 'b'), edge('c', 'backing', 'b')] } as NormGraph;
  assert.is(knownAbort(list, p), undefined);
  // a monitor reference keeps b
  p.graph = { ...p.graph, edges: [edge('a', 'backing', 'b')] } as NormGraph;
  p.monitorOwned.add('b');
  assert.is(knownAbort(list, p), undefined);
});

test('crash 5 and item 8: references to nodes in an iothread are aborts, others are not', () => {
  const w = new World();
  const p = w.proc('A');
  p.graph = { nodes: [node('a'), node('af', 'file'), node('b')], parents: [], edges: [edge('a', 'file', 'af')] } as NormGraph;
  p.moved.add('a');
  assert.match(knownAbort({ execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'r', file: 'af' } }, p) ?? '', /crash 5/);
  assert.is(knownAbort({ execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'r', file: 'b' } }, p), undefined);
  assert.match(knownAbort({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'b', backing: 'a' }] } }, p) ?? '', /item 8/);
  // a copy-before-write target and a qcow2 data-file are references too (fuzz seed 3090920988)
  assert.match(knownAbort({ execute: 'blockdev-add', arguments: { driver: 'copy-before-write', 'node-name': 'c', file: 'b', target: 'af' } }, p) ?? '', /crash 5/);
  assert.match(knownAbort({ execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'q', file: 'b', 'data-file': 'a' } }, p) ?? '', /crash 5/);
});

test('the generator never sends a step the abort guards flag (200 steps over a live-like view)', () => {
  for (const seed of [1, 2, 3]) {
    const w = new World();
    const p = w.proc('A');
    p.graph = { nodes: [node('a'), node('af', 'file'), node('b'), node('cf', 'commit_top')], parents: [], edges: [edge('a', 'file', 'af'), edge('b', 'backing', 'cf')] } as NormGraph;
    p.moved.add('a');
    p.iothreads.add('io0');
    const g = new Generator(new Rng(seed), w);
    for (let i = 0; i < 200; i++) {
      const s = g.next();
      if (!s) continue;
      assert.is(knownAbort(s, w.proc(s.proc ?? 'A')), undefined, JSON.stringify(s));
    }
  }
});

test('no backup copies all of a source created past 1 GiB (a full copy filled /dev/shm: fuzz 2026120608 case 121)', () => {
  const w = new World();
  const p = w.proc('A');
  const graph = { nodes: [{ ...node('n4', 'vdi'), file: 'img0.vdi' }, { ...node('f1', 'file'), file: 'img0.vdi' }, node('n5', 'null-co'), node('t', 'throttle')], parents: [], edges: [edge('n4', 'file', 'f1'), edge('t', 'file', 'n4')] } as NormGraph;
  p.graph = graph;
  // blockdev-create of a 128 GiB vdi onto img0.vdi's file node (the vdi opened over it above)
  const create = { execute: 'blockdev-create', arguments: { 'job-id': 'c3', options: { driver: 'vdi', file: 'f1', size: 137438953472 } } };
  w.observe(create, { proc: 'A', ...create, result: { ok: true }, events: [], graph: { nodes: [{ name: 'f1', driver: 'file', ro: false, file: 'img0.vdi' }], parents: [], edges: [] } } as never);
  p.graph = graph;
  assert.ok(p.hugeImages.has('img0.vdi'));
  assert.ok(p.mayBeHuge('n4'));
  assert.ok(p.mayBeHuge('t'));
  assert.not.ok(p.mayBeHuge('n5'));
  let seen = 0;
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const g = new Generator(new Rng(seed), w);
    for (let i = 0; i < 400; i++) {
      const s = g.next();
      if (!s || 'wait' in s || (s.execute !== 'blockdev-backup' && s.execute !== 'drive-backup')) continue;
      const a = s.arguments ?? {};
      if (!p.mayBeHuge(String(a.device))) continue;
      seen++;
      assert.is(a.sync, 'none', JSON.stringify(s));
    }
  }
  assert.ok(seen > 0, 'some backup had a huge source');
});

test('no backup or mirror copies into a node whose writes end at snapshot-access (its failure races the graph query)', () => {
  const w = new World();
  const p = w.proc('A');
  p.graph = {
    nodes: [node('src'), node('acc', 'snapshot-access'), node('t', 'throttle'), node('q')], parents: [],
    edges: [edge('acc', 'file', 'src'), edge('t', 'file', 'acc')],
  } as NormGraph;
  assert.ok(p.writesEndAtSnapshotAccess('acc'));
  assert.ok(p.writesEndAtSnapshotAccess('t'));
  assert.not.ok(p.writesEndAtSnapshotAccess('src'));
  assert.not.ok(p.writesEndAtSnapshotAccess('q'));
  let seen = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const g = new Generator(new Rng(seed), w);
    for (let i = 0; i < 400; i++) {
      const s = g.next();
      if (!s || 'wait' in s || (s.execute !== 'blockdev-backup' && s.execute !== 'blockdev-mirror')) continue;
      const a = s.arguments ?? {};
      if (!p.writesEndAtSnapshotAccess(String(a.target))) continue;
      seen++;
      assert.is(a.sync, 'none', JSON.stringify(s));
    }
  }
  assert.ok(seen > 0, 'some backup or mirror targeted a snapshot-access node');
});

// fuzz --qemu 10.0 3766108729: a job a leaked drain keeps paused shows no event; the refusal of a
// job verb names its status, and the generator then queues no wait after block-job-set-speed 0
test('a job verb refusal tells the view the job\'s status: no wait for a paused job', () => {
  const w = new World();
  const empty = { nodes: [], parents: [], edges: [] } as NormGraph;
  const stream: Step = { execute: 'block-stream', arguments: { 'job-id': 'j6', device: 'f5', speed: 1 } };
  w.observe(stream, { proc: 'A', ...stream, arguments: stream.arguments!, result: { ok: true }, events: [{ event: 'JOB_STATUS_CHANGE', data: { id: 'j6', status: 'running' } }], graph: empty } as never);
  assert.is(w.proc('A').jobs.get('j6')?.status, 'running');
  const fin: Step = { execute: 'job-finalize', arguments: { id: 'j6' } };
  w.observe(fin, { proc: 'A', ...fin, arguments: fin.arguments!, result: { ok: false, class: 'GenericError', desc: "Job 'j6' in state 'paused' cannot accept command verb 'finalize'" }, events: [], graph: empty } as never);
  assert.is(w.proc('A').jobs.get('j6')?.status, 'paused');
  const g = new Generator(new Rng(1), w);
  g.followUp({ execute: 'block-job-set-speed', arguments: { device: 'j6', speed: 0 } }, true);
  assert.equal(g.queue, []);
});

test('closeDependencies drops waits whose job was never started', () => {
  const steps: Step[] = [
    { execute: 'block-stream', arguments: { 'job-id': 'j1', device: 'a' } },
    { wait: { job: 'j1', status: 'pending' } },
    { wait: { job: 'j2', status: 'pending' } },
  ];
  assert.equal(closeDependencies(steps), steps.slice(0, 2));
});

test('shrink keeps only the steps the finding needs', async () => {
  const steps: Step[] = Array.from({ length: 12 }, (_, i) => ({ execute: `c${i}` }));
  const scenario: Scenario = { name: 's', description: '', covers: ['fuzz'], images: [], steps };
  const target: Finding = { category: 'outcome', step: 11, command: 'c11', message: 'm' };
  // the finding shows whenever c3 and c7 come before c11
  const testFn = async (s: Scenario) => {
    const names = s.steps.map((x) => ('execute' in x ? x.execute : ''));
    return names.includes('c3') && names.includes('c7') && names.at(-1) === 'c11' ? target : undefined;
  };
  const r = await shrink(scenario, target, { test: testFn });
  assert.equal(r.scenario.steps.map((x) => ('execute' in x ? x.execute : '')), ['c3', 'c7', 'c11']);
});

// stop 41's VM 10.0 run (seed 2026120704) was stopped at its time limit while it shrank a finding
// and went on with the whole shrink budget (a minute a run on the VM): a shrink asked to stop ends
// at once with the smallest scenario it had, and says so
test('shrink stops when asked, with what it has', async () => {
  const steps: Step[] = Array.from({ length: 12 }, (_, i) => ({ execute: `c${i}` }));
  const scenario: Scenario = { name: 's', description: '', covers: ['fuzz'], images: [], steps };
  const target: Finding = { category: 'outcome', step: 11, command: 'c11', message: 'm' };
  let runs = 0;
  const testFn = async (s: Scenario) => {
    runs++;
    const names = s.steps.map((x) => ('execute' in x ? x.execute : ''));
    return names.includes('c3') && names.includes('c7') && names.at(-1) === 'c11' ? target : undefined;
  };
  const full = await shrink(scenario, target, { test: testFn });
  assert.is(full.stopped, false);
  assert.ok(full.runs > 3);
  runs = 0;
  const r = await shrink(scenario, target, { test: testFn, shouldStop: () => runs >= 3 });
  assert.is(r.stopped, true);
  assert.is(r.runs, 3);
  assert.is(runs, 3);
  // halves (c6…c11, c0…c5 c11) lose c3 or c7; the third candidate, c0…c2 dropped, reproduces
  assert.equal(r.scenario.steps.map((x) => ('execute' in x ? x.execute : '')), ['c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11']);
});

test('known fuzz entries match masked messages by category, command and pattern', () => {
  assert.is(maskNames("Node 'n12' of j3 (16777216) qcow2"), "Node '·' of · (N) qcow2");
  // one cause, one key: normalize.ts's disambiguating suffix does not make a second root cause
  assert.is(maskNames('parent missing: ["bb:x14#2","block-backend"]'), maskNames('parent missing: ["bb:x9","block-backend"]'));
  assert.is(maskNames('node missing: ["#block123","qcow2"]'), 'node missing: ["#block123","qcow2"]');
  // every prefix the generator hands out (Generator.fresh) is a name
  assert.is(maskNames("Node 'cbw5' of b18 over nbd16, acc2, sl3"), "Node '·' of · over ·, ·, ·");
  const known = { iotests: [], fuzz: [{ category: 'outcome', command: 'blockdev-(add|reopen)', pattern: 'Offset \\(N\\)', transcript: '', differs: '', cause: 'x' }] };
  const f = (command: string, category: Finding['category'], message: string): Finding => ({ category, step: 0, command, message });
  assert.ok(matchKnown(f('blockdev-add', 'outcome', 'expected Offset (33554432) cannot…'), known));
  assert.ok(matchKnown(f('blockdev-reopen', 'outcome', 'Offset (1)'), known));
  assert.not.ok(matchKnown(f('blockdev-addx', 'outcome', 'Offset (1)'), known));
  assert.not.ok(matchKnown(f('blockdev-add', 'graph', 'Offset (1)'), known));
});

// fuzz 329040125 (stop 41): a blockdev-backup into a blkverify node dies on 7.2 and 10.0 alike
// (bdrv_co_do_pwrite_zeroes: Assertion `!bs->supported_zero_flags'); into a node beside it, not
test('fuzz 329040125: no job writes into a subtree with a blkverify node', () => {
  const w = new World();
  const p = w.proc('A');
  p.graph = { nodes: [node('x0', 'blkverify'), node('t', 'throttle'), node('n2', 'null-co'), node('n3', 'null-co')], parents: [], edges: [edge('t', 'file', 'x0')] } as NormGraph;
  for (const target of ['x0', 't']) {
    assert.match(knownAbort({ execute: 'blockdev-backup', arguments: { 'job-id': 'b4', device: 'n2', target, sync: 'full' } }, p) ?? '', /fuzz 329040125/);
    assert.match(knownAbort({ execute: 'blockdev-mirror', arguments: { 'job-id': 'b4', device: 'n2', target, sync: 'full' } }, p) ?? '', /fuzz 329040125/);
  }
  assert.match(knownAbort({ execute: 'block-commit', arguments: { 'job-id': 'c', device: 't' } }, p) ?? '', /fuzz 329040125/);
  assert.is(knownAbort({ execute: 'blockdev-backup', arguments: { 'job-id': 'b4', device: 'x0', target: 'n3', sync: 'full' } }, p), undefined);
});

test.run();
