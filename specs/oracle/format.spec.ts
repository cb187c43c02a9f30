import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BlockgraphError } from '../../errors/index.js';
import { PRINT_WIDTH, parseScenario, parseTranscript, printJson, printTranscript, scenarioOf } from '../../oracle/index.js';

const DIR = resolve('oracle/transcripts');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('the public set is there', () => {
  assert.ok(files.length >= 64, `found ${files.length} transcripts in ${DIR}`);
});

test('printTranscript(parseTranscript(text)) reproduces every public transcript byte for byte', () => {
  const bad: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(DIR, f), 'utf8');
    if (printTranscript(parseTranscript(text)) !== text) bad.push(f);
  }
  assert.equal(bad, []);
});

test('the public set (README: 64 scenarios, 522 steps) is all there, plus recordings made in this repo', () => {
  let steps = 0;
  for (const f of files) steps += parseTranscript(readFileSync(join(DIR, f), 'utf8')).steps.length;
  // transcripts recorded in this repo (issue 12 onwards) are added to the same folder
  assert.ok(files.length >= 64, `${files.length} transcripts`);
  assert.ok(steps >= 522, `${steps} steps`);
});

const badInput = (fn: () => unknown, what: RegExp) => {
  try {
    fn();
  } catch (e) {
    assert.instance(e, BlockgraphError);
    assert.is((e as BlockgraphError).code, 'BG_BAD_INPUT');
    assert.match((e as Error).message, what);
    return;
  }
  assert.unreachable('no error');
};

const minimal = () => ({
  format: 'blockgraph-oracle/1', name: 'x', description: 'd', covers: ['add-del'], qemu: '7.2.22', images: [],
  steps: [{ proc: 'A', execute: 'query-jobs', arguments: {}, result: { ok: true }, events: [], graph: { nodes: [], parents: [], edges: [] } }],
});

test('parseTranscript rejects malformed input with BG_BAD_INPUT', () => {
  badInput(() => parseTranscript('{'), /not JSON/);
  badInput(() => parseTranscript('[]'), /JSON object/);
  badInput(() => parseTranscript({ ...minimal(), format: 'other/1' }), /format/);
  badInput(() => parseTranscript({ ...minimal(), covers: [] }), /covers/);
  badInput(() => parseTranscript({ ...minimal(), extra: 1 }), /unexpected member 'extra'/);
  const noResult = minimal(); delete (noResult.steps[0] as Record<string, unknown>).result;
  badInput(() => parseTranscript(noResult), /steps\[0\]\.result/);
  const badGraph = minimal(); (badGraph.steps[0].graph as Record<string, unknown>).nodes = [{ name: 'a', driver: 'file', ro: 'no' }];
  badInput(() => parseTranscript(badGraph), /'ro' must be a boolean/);
  const badParent = minimal(); (badParent.steps[0].graph as Record<string, unknown>).parents = [{ name: 'p', type: 'export' }];
  badInput(() => parseTranscript(badParent), /type/);
  badInput(() => parseTranscript({ ...minimal(), images: [{ file: 'a', format: 'raw', size: '1M', data: [{ offset: -1, length: 1 }] }] }), /offset/);
});

test('parseScenario accepts scenarios and strips recorded parts; scenarioOf gives what a model runs', () => {
  const s = parseScenario(JSON.stringify({
    name: 'n', description: 'd', covers: ['jobs'], images: [],
    steps: [{ execute: 'query-jobs' }, { proc: 'B', wait: { job: 'j', status: 'null' } }],
  }));
  assert.equal(s.steps, [{ execute: 'query-jobs' }, { proc: 'B', wait: { job: 'j', status: 'null' } }]);
  badInput(() => parseScenario({ name: 'n', description: 'd', covers: ['x'], images: [], steps: [{ execute: 1 }] }), /execute/);
  const t = parseTranscript(readFileSync(join(DIR, 'job-implicit-chain-stream.json'), 'utf8'));
  const sc = scenarioOf(t);
  assert.equal(sc.steps[2], { proc: 'A', wait: { job: 's0', status: 'pending' } });
  assert.not.ok('result' in sc.steps[0]);
});

test('printJson: flat objects stay on one line however long, others break past the width', () => {
  const long = 'x'.repeat(200);
  assert.is(printJson({ a: [{ k: long, l: ['p', 'q'] }] }), `{\n  "a": [\n    {"k":"${long}","l":["p","q"]}\n  ]\n}\n`);
  assert.is(printJson({ a: { b: { c: 1 } } }), '{"a":{"b":{"c":1}}}\n');
  // exactly at the width: one line; one more column: broken
  const fits = (n: number) => ({ k: { s: 'y'.repeat(n) } });
  const width = (n: number) => `  "o": ${JSON.stringify(fits(n))}`.length;
  const doc = (n: number) => ({ o: fits(n), z: { q: { r: long } } });
  let n = 0;
  while (width(n) < PRINT_WIDTH) n++;
  assert.is(printJson(doc(n)).split('\n')[1], `  "o": ${JSON.stringify(fits(n))},`);
  assert.is(printJson(doc(n + 1)).split('\n')[1], '  "o": {');
  assert.is(printJson({ e: [], o: {} }), '{"e":[],"o":{}}\n');
});

test.run();
