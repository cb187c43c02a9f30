// Golden logs: each scenario of scenarios.ts was recorded (npm run golden:update) into
// specs/golden/<name>.jsonl. Here each is (1) checked on its own (chain, recorded state
// hashes) and (2) re-run through today's engine and compared record by record; a difference
// fails with the first diverging seq and what changed in which entity.
import { stepsOf } from '../../events/whole.js';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkFixture, parseFixture } from '../../replay/fixture.js';
import { openMemory } from '../../store/index.js';
import { emptyFold, foldRecord } from '../../replay/fold.js';
import { compareLogs, diffStates, formatLogComparison, normalizeLog } from '../../testing/index.js';
import { GOLDEN, recordGolden, type GoldenScenario } from './scenarios.js';

const load = (name: string) => {
  const file = `specs/golden/${name}.jsonl`;
  return parseFixture(readFileSync(file, 'utf8'), file);
};

async function rerun(sc: GoldenScenario) {
  const log = await recordGolden(sc, await openMemory(), async (l) => l);
  const recs = await log.readAll();
  await log.close();
  return recs;
}

for (const sc of GOLDEN) {
  test(`golden ${sc.name}: the recording is sound and today's engine writes the same log`, async () => {
    const f = load(sc.name);
    const check = checkFixture(f, sc.name);
    assert.ok(check.checked > 1, 'the recording has state hashes to compare');
    const c = compareLogs(f.records, await rerun(sc));
    assert.ok(c.ok, `${formatLogComparison(sc.name, c)}\n(re-record deliberately with: npm run golden:update)`);
  });
}

test('a divergence names the first diverging seq and the entity that changed', async () => {
  const sc = GOLDEN.find((s) => s.name === 'reopen-transaction')!;
  const f = load(sc.name);
  // b stays read-write in the second (successful) reopen: the model now "decides" differently
  const changed: GoldenScenario = structuredClone(sc);
  const step = changed.steps[5] as unknown as { arguments: { options: Record<string, unknown>[] } };
  delete step.arguments.options[1]!['read-only'];
  const c = compareLogs(f.records, await rerun(changed));
  assert.is(c.ok, false);
  // seqs of the log as today's engine writes it (the recording ends each txn with its own record)
  const begun = normalizeLog(f.records).find((r) => r.type === 'txn.begun' && (r.data as { op: string }).op === 'blockdev-reopen')!;
  assert.is(c.seq, begun.seq, 'the txn.begun of that reopen is where the logs part');
  const report = formatLogComparison(sc.name, c);
  assert.match(report, `first diverging seq ${begun.seq}`);
  // and the final states differ in b and its file child only (a went read-only as recorded)
  const now = await rerun(changed);
  const fold = (recs: typeof now) => { const f0 = emptyFold(); for (const r of recs) foldRecord(f0, r); return f0.state; };
  const diff = diffStates(fold(f.records), fold(now));
  assert.equal(diff.filter((l) => l.startsWith('~ A.nodes.')).map((l) => l.split(':')[0]), ['~ A.nodes.b', '~ A.nodes.bf'], diff.join('\n'));
  assert.ok(diff.some((l) => l.includes('ro true -> false')), diff.join('\n'));
});

test('a divergence in state alone (same records) reports the entity diff', () => {
  const f = load('reopen-transaction');
  const tampered = structuredClone(normalizeLog(f.records));
  // normalized, a transaction is one whole record (events/whole.ts): the step is inside it
  const i = tampered.findIndex((r) => stepsOf(r).some((s) => JSON.stringify(s).includes('"ro":true')));
  assert.ok(i > 0);
  const changes = stepsOf(tampered[i]!).flatMap((s) => s.changes) as unknown as { c: string; id: string; after: { ro?: boolean } }[];
  const ch = changes.find((x) => x.c === 'nodes' && x.after?.ro === true)!;
  ch.after.ro = false;
  const c = compareLogs(f.records, tampered);
  assert.is(c.seq, tampered[i]!.seq);
  assert.ok(c.stateDiff!.some((l) => l.startsWith(`~ A.nodes.${ch.id}:`) && l.includes('ro true -> false')), c.stateDiff!.join('\n'));
});

test.run();
