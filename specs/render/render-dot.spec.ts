// DOT of recorded states: shapes, edge labels "name\nperm/shared", frozen and read-only
// marks, AioContext clusters. Every expected label is derived by hand from QEMU 7.2's rules
// for the history recordHistory runs; the DOT is also laid out by Graphviz (WASM) to prove
// it parses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dotToSvg } from '../../cli/commands/render.js';
import type { State } from '../../graph/types.js';
import { renderDot } from '../../replay/render-dot.js';
import { replay } from '../../replay/replay.js';
import { openMemory, type EventLog } from '../../store/index.js';
import { recordHistory, type History } from './helpers.js';

let log: EventLog;
let h: History;
const at = async (seq: number): Promise<State> => (await replay(log, { upTo: seq })).state;

test.before(async () => {
  log = await openMemory();
  h = await recordHistory(log);
});

/** The attribute list of the DOT statement `from -> to`, or of node `from`. */
function stmt(dot: string, from: string, to?: string): string | undefined {
  const head = to ? `"${from}" -> "${to}" [` : `"${from}" [`;
  const line = dot.split('\n').find((l) => l.trim().startsWith(head));
  return line?.trim().slice(head.length - 1);
}

/** Node ids declared inside one cluster. */
function clusterMembers(dot: string, cluster: string): string[] {
  const lines = dot.split('\n');
  const i = lines.findIndex((l) => l.includes(`subgraph "${cluster}" {`));
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 2; j < lines.length && lines[j]!.trim() !== '}'; j++) out.push(/^\s*"([^"]+)"/.exec(lines[j]!)![1]!);
  return out;
}

test('before the export: file links of writable qcow2 nodes are RWZ/RU, of the read-only base R/RU; backing links -/RWUZ', async () => {
  const dot = renderDot(await at(h.marks.top!));
  // _for_storage with the metadata role: R always, W|Z unless read-only; shared R|U
  assert.is(stmt(dot, 'A/node/top', 'A/node/topf'), '[label="file\\nRWZ/RU"];');
  assert.is(stmt(dot, 'A/node/mid', 'A/node/midf'), '[label="file\\nRWZ/RU"];');
  assert.is(stmt(dot, 'A/node/base', 'A/node/basef'), '[label="file\\nR/RU"];');
  // _for_cow: perm & R (no parent asks for R yet); nobody forbids writes above, so shared W|Z|R|U
  assert.is(stmt(dot, 'A/node/top', 'A/node/mid'), '[label="backing\\n-/RWUZ"];');
  assert.is(stmt(dot, 'A/node/mid', 'A/node/base'), '[label="backing\\n-/RWUZ"];');
  assert.match(stmt(dot, 'A/node/base')!, /shape="box", label="base\\nqcow2 \(ro\)", style="filled", fillcolor="#e4e4e4"/);
  assert.match(stmt(dot, 'A/node/top')!, /^\[shape="box", label="top\\nqcow2"\];$/);
});

test('after the stream: filter, job and BlockBackends as their own shapes; frozen links marked; perms through cor', async () => {
  const dot = renderDot(await at(h.marks.stream!));
  // cor_child_perm: perm & (R|W|Z) | U, shared & (R|W|Z) | U, from export RW/RWU, job BB R/RWU, job -/RWUZ
  assert.is(stmt(dot, 'A/node/cor', 'A/node/top'),
    '[label="file\\nRWU/RWU\\nfrozen", color="#1f5fbf", fontcolor="#1f5fbf", penwidth="2.5", style="bold"];');
  assert.is(stmt(dot, 'A/node/top', 'A/node/mid'),
    '[label="backing\\nR/RWUZ\\nfrozen", color="#1f5fbf", fontcolor="#1f5fbf", penwidth="2.5", style="bold"];');
  // not frozen (base-node=base: the chain is frozen down to the node above base), shared narrowed by the job's R|U on mid
  assert.is(stmt(dot, 'A/node/mid', 'A/node/base'), '[label="backing\\nR/RU"];');
  assert.is(stmt(dot, 'A/node/top', 'A/node/topf'), '[label="file\\nRWUZ/RU"];');
  // the export's BlockBackend was moved onto the filter by bdrv_insert_node
  assert.is(stmt(dot, 'A/bb/bb12', 'A/node/cor'), '[label="root\\nRW/RWU"];');
  assert.is(stmt(dot, 'A/bb/bb12', 'A/node/top'), undefined);
  assert.match(stmt(dot, 'A/bb/bb12')!, /shape="ellipse", label="BlockBackend\\nblk\(export e0\)"/);
  assert.match(stmt(dot, 'A/bb/bb20')!, /shape="ellipse", label="BlockBackend\\nblk\(job j0 stream\)"/);
  assert.match(stmt(dot, 'A/job/j0')!, /shape="hexagon".*label="job j0\\nstream running"/);
  assert.is(stmt(dot, 'A/job/j0', 'A/node/cor'), '[label="main node\\n-/RWUZ", color="#9a7b00", fontcolor="#9a7b00", style="dashed"];');
  assert.is(stmt(dot, 'A/job/j0', 'A/node/mid'), '[label="intermediate node\\n-/RU", color="#9a7b00", fontcolor="#9a7b00", style="dashed"];');
  assert.match(stmt(dot, 'A/job/j0', 'A/bb/bb20')!, /style="dotted"/);
  const frozen = dot.split('\n').filter((l) => l.includes('\\nfrozen'));
  assert.is(frozen.length, 2, 'exactly the two links of the stream chain');
});

test('AioContext clusters: n0 alone in io0, everything else in main, inside the process cluster', async () => {
  const dot = renderDot(await at(h.marks.stream!));
  assert.equal(clusterMembers(dot, 'cluster_A_aio_io0'), ['A/node/n0']);
  const main = clusterMembers(dot, 'cluster_A_aio_main');
  for (const id of ['A/node/base', 'A/node/basef', 'A/node/mid', 'A/node/midf', 'A/node/top', 'A/node/topf', 'A/node/cor', 'A/bb/bb12', 'A/bb/bb20', 'A/job/j0']) {
    assert.ok(main.includes(id), id);
  }
  assert.not.ok(main.includes('A/node/n0'));
  assert.match(stmt(dot, 'A/node/n0')!, /label="n0\\nnull-co \(ro\)"/);
  assert.ok(dot.indexOf('subgraph "cluster_A" {') < dot.indexOf('subgraph "cluster_A_aio_main" {'));
});

test('--proc filters processes; ids are quoted and escaped', () => {
  const s: State = { A: { nodes: { 'a"b': { name: 'a"b', auto: false, driver: 'null-co', ro: false, filename: '', options: {}, monitor: true, implicit: false, neverFreeze: false, inheritsFrom: null, aio: 'main', size: 0, align: 1, header: null, lock: null, forceShare: false, order: 1 } } } };
  const dot = renderDot(s);
  assert.ok(dot.includes('"A/node/a\\"b" [shape="box", label="a\\"b\\nnull-co"]'), dot);
  assert.match(renderDot(s, { proc: 'B' }), /\(no process B\)/);
  assert.not.ok(renderDot(s, { proc: 'B' }).includes('A/node'));
});

test('Graphviz (WASM) lays the DOT out: every node id becomes an SVG <title>', async () => {
  const svg = await dotToSvg(renderDot(await at(h.marks.stream!)));
  assert.ok(svg.startsWith('<svg'));
  for (const id of ['A/node/cor', 'A/node/n0', 'A/bb/bb12', 'A/job/j0', 'A/node/top&#45;&gt;A/node/mid']) assert.ok(svg.includes(`<title>${id}</title>`), id);
  assert.ok(svg.includes('>AioContext io0</text>'));
});

test.run();
