import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareGraphs, compareSuites, compareTranscripts, formatComparison, parseTranscript, type Transcript } from '../../oracle/index.js';

const load = (name: string) => parseTranscript(readFileSync(resolve('oracle/transcripts', `${name}.json`), 'utf8'));
const clone = (t: Transcript): Transcript => JSON.parse(JSON.stringify(t));

test('a transcript matches itself fully', () => {
  const t = load('job-implicit-chain-stream');
  const c = compareTranscripts(t, clone(t));
  assert.equal(c.totals, { steps: 4, outcome: 4, errorText: 4, graph: 4, events: 4 });
  assert.equal(c.percent, { outcome: 100, errorText: 100, graph: 100, events: 100 });
  assert.is(c.area, 'jobs');
  assert.ok(c.steps.every((s) => s.diff.length === 0));
});

test('an hmp-text transcript compares a human-monitor-command\'s printed reply as its error text; without it nothing is compared', () => {
  const t = load('vm/vm-l-info-block-devices');
  assert.is(t['hmp-text'], true);
  const i = t.steps.findIndex((s) => 'result' in s && s.result.ok && (s.result.return ?? '') !== '');
  const m = clone(t);
  const st = m.steps[i]!;
  if (!('result' in st) || !st.result.ok) throw new Error('fixture changed');
  st.result = { ok: true, return: 'other text\r\n' };
  const c = compareTranscripts(t, m);
  assert.equal([c.steps[i]!.outcome, c.steps[i]!.errorText, c.steps[i]!.graph], [true, false, true]);
  assert.match(c.steps[i]!.diff.join('\n'), /hmp text: expected/);
  // a transcript without the member records no text: an actual run's text is not compared
  const plain = clone(t);
  const ps = plain.steps[i]!;
  if ('result' in ps) ps.result = { ok: true };
  assert.equal(compareTranscripts(plain, m).steps[i]!.errorText, true);
  // the member must be true where present, and a `return` must be a string
  assert.throws(() => parseTranscript({ ...JSON.parse(JSON.stringify(t)), 'hmp-text': false }), /hmp-text/);
  const bad = JSON.parse(JSON.stringify(t));
  bad.steps[i].result.return = 7;
  assert.throws(() => parseTranscript(bad), /return/);
});

test('a replies transcript scores a query\'s reply as the step\'s graph; without the member nothing is compared', () => {
  const t = load('qr-qcow2-defaults');
  assert.is(t.replies, true);
  const i = t.steps.findIndex((s) => 'execute' in s && s.execute === 'query-named-block-nodes');
  const st0 = t.steps[i]!;
  if (!('result' in st0) || !st0.result.ok || !Array.isArray(st0.result.return)) throw new Error('fixture changed');
  const m = clone(t);
  const st = m.steps[i]!;
  if (!('result' in st) || !st.result.ok) throw new Error('fixture changed');
  const reply = st.result.return as Record<string, unknown>[];
  (reply[0]!.image as Record<string, unknown>)['cluster-size'] = 4096;
  const c = compareTranscripts(t, m);
  assert.equal([c.steps[i]!.outcome, c.steps[i]!.errorText, c.steps[i]!.graph], [true, true, false]);
  assert.match(c.steps[i]!.diff.join('\n'), /reply \[0\]\.image\.cluster-size: expected 65536, got 4096/);
  // members in another order are the same reply; the list in another order is not
  const n = clone(t);
  const sn = n.steps[i]!;
  if (!('result' in sn) || !sn.result.ok) throw new Error('fixture changed');
  const list = sn.result.return as Record<string, unknown>[];
  list[0] = Object.fromEntries(Object.entries(list[0]!).reverse());
  assert.is(compareTranscripts(t, n).steps[i]!.graph, true);
  list.reverse();
  assert.is(compareTranscripts(t, n).steps[i]!.graph, false);
  // without the member a JSON return is refused
  const bad = JSON.parse(JSON.stringify(t));
  delete bad.replies;
  assert.throws(() => parseTranscript(bad), /return/);
});

test('outcome vs error text vs graph vs events are scored separately', () => {
  const t = load('add-del-basic');
  const m = clone(t);
  const s1 = m.steps[1];
  if (!('result' in s1) || s1.result.ok) throw new Error('fixture changed');
  s1.result = { ok: false, class: 'GenericError', desc: 'other text' };        // outcome ok, text wrong
  const s3 = m.steps[3];
  if ('result' in s3) s3.result = { ok: true };                                // outcome wrong
  m.steps[0].graph!.nodes.reverse();                                            // order does not matter
  m.steps[2].graph!.nodes.push({ name: 'x', driver: 'null-co', ro: false });    // graph wrong
  m.steps[2].events.push({ event: 'E' });                                      // events wrong
  const c = compareTranscripts(t, m);
  assert.equal(c.steps.map((s) => [s.outcome, s.errorText, s.graph, s.events]), [
    [true, true, true, true], [true, false, true, true], [true, true, false, false], [false, false, true, true],
  ]);
  assert.equal(c.totals, { steps: 4, outcome: 3, errorText: 2, graph: 3, events: 3 });
  assert.equal(c.percent.errorText, 50);
  const text = formatComparison(c);
  assert.match(text, /other text/);
  assert.match(text, /node extra: +\["x","null-co",false,null\]/);
});

test('graph comparison: perm lists and file are part of identity; multisets', () => {
  const g = { nodes: [{ name: 'a', driver: 'file', ro: false, file: 'a' }], parents: [], edges: [{ parent: 'p', name: 'file', child: 'a', perm: ['write'], shared: [] }] };
  assert.equal(compareGraphs(g, JSON.parse(JSON.stringify(g))), []);
  assert.is(compareGraphs(g, { ...g, nodes: [{ name: 'a', driver: 'file', ro: false }] }).length, 2);
  assert.is(compareGraphs(g, { ...g, edges: [{ ...g.edges[0], perm: [] }] }).length, 2);
  assert.is(compareGraphs(g, { ...g, edges: [g.edges[0], g.edges[0]] }).length, 1);
});

test('missing steps count as mismatches; suites total per area by covers[0]', () => {
  const a = load('add-del-basic');
  const j = load('job-implicit-chain-stream');
  const short = clone(j);
  short.steps = short.steps.slice(0, 2);
  const s = compareSuites([{ expected: a, actual: clone(a) }, { expected: j, actual: short }]);
  assert.equal(s.totals, { steps: 8, outcome: 6, errorText: 6, graph: 6, events: 6 });
  assert.equal(Object.keys(s.byArea), ['add-del', 'jobs']);
  assert.equal(s.byArea.jobs.percent.outcome, 50);
  assert.equal(s.transcripts[1].problems, ['expected 4 steps, got 2']);
});

test('a step without a graph (a detached job filter) agrees only with a step without one', () => {
  const t = load('add-del-basic');
  const none = clone(t);
  delete none.steps[2].graph;
  assert.is(compareTranscripts(none, none).steps[2].graph, true);
  const c = compareTranscripts(none, t).steps[2];
  assert.is(c.graph, false);
  assert.match(c.diff.join('\n'), /graph: expected none \(a detached job filter\), got one/);
  assert.is(compareTranscripts(t, none).steps[2].graph, false);
});
test.run();
