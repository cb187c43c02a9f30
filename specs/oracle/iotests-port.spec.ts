// QEMU's own iotests, ported as scenarios and recorded on qemu-storage-daemon 7.2
// (oracle/transcripts/iotests), run on the model. Every disagreement must be listed in
// oracle/fuzz/known-disagreements.json, and every listed one must still disagree: the list only
// shrinks, honestly, as fixes land. Also the fuzzer's minimal transcripts (fuzz-found/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkModel, loadKnown, matchKnown } from '../../oracle/fuzz/index.js';
import { IOTESTS_10_0_DIR, IOTESTS_DIR, scoreIotests } from '../../oracle/fuzz/iotests.js';
import { parseScenario, parseTranscript } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';

const known = loadKnown();
const PORTED = ['245', '030', '040', '041', '153', '155', '156', '161', '184', '191', '202', '235', '240', '258', '281', 'tests',
  '055', '056', '057', '129', '141', '144', '151', '173', '195', '205', '218', '219', '223', '228', '236', '249', '283', '307', '310', '312',
  '139', '152', '229', '257', '264',
  '118', '124', '185', '200', '206', '211', '212', '213', '232', '237', '247', '248', '255', '256', '260', '266', '274', '280', '298',
  '071', '081', '085', '087', '093', '094', '095', '096', '117', '120', '127', '130', '132', '147', '165', '182', '208', '216', '224', '225',
  '234', '244', '246', '262', '271', '299', '313'];

test('the port covers every iotest of the issue, each scenario with its recording', () => {
  const names = readdirSync(IOTESTS_DIR).filter((f) => f.endsWith('.json'));
  for (const t of PORTED) assert.ok(names.some((n) => n.startsWith(`${t}-`)), `no transcript ports ${t}`);
  const scenarios = join(TRANSCRIPTS_DIR, '..', 'scenarios', 'iotests');
  for (const n of readdirSync(scenarios).filter((f) => f.endsWith('.json'))) {
    parseScenario(readFileSync(join(scenarios, n), 'utf8'), n);
    assert.ok(existsSync(join(IOTESTS_DIR, n)), `scenario ${n} has no recording`);
  }
  let steps = 0;
  for (const n of names) steps += parseTranscript(readFileSync(join(IOTESTS_DIR, n), 'utf8'), n).steps.length;
  assert.ok(steps >= 1600, `only ${steps} steps`);
});

test('the model on the iotests port: no disagreement outside the known list, no listed one that agrees now', async () => {
  const { disagreements } = await scoreIotests();
  const key = (t: string, step: number, cat: string) => `${t} #${step} ${cat}`;
  const listed = new Set(known.iotests.map((k) => key(k.transcript, k.step, k.category)));
  const found = new Set(disagreements.map((d) => key(`iotests/${d.transcript}`, d.step, d.category)));
  const unexplained = disagreements.filter((d) => !listed.has(key(`iotests/${d.transcript}`, d.step, d.category)))
    .map((d) => `iotests/${d.transcript} #${d.step} ${d.category} ${d.command}: ${d.differs}`);
  const fixed = known.iotests.filter((k) => !found.has(key(k.transcript, k.step, k.category))).map((k) => `${k.transcript} #${k.step} ${k.category}`);
  assert.equal(unexplained, [], `disagreements not in oracle/fuzz/known-disagreements.json:\n${unexplained.join('\n')}`);
  assert.equal(fixed, [], `listed disagreements that agree now (remove them from the list):\n${fixed.join('\n')}`);
  assert.not.ok(disagreements.some((d) => d.category === 'model-crash'), 'the model threw (exit 70)');
});

test('the model under 10.0 rules on the port as recorded on 10.0: no disagreement', async () => {
  // (030-stream-pause: a resume or set-speed kick of a rate-limited job that 10.0's
  // block_job_ratelimit_sleep swallows; graph/rules.ts wake-ends-rate-limit-sleep)
  const { disagreements } = await scoreIotests(IOTESTS_10_0_DIR);
  assert.equal(disagreements.map((d) => `iotests/${d.transcript} #${d.step} ${d.category} ${d.command}: ${d.differs}`), []);
});

test('every fuzz-found transcript still shows the disagreement its known entry describes', async () => {
  // (the list only shrinks: once every fuzz-found cause is fixed there is nothing left to check)
  const withFile = known.fuzz.filter((k) => k.transcript);
  for (const k of withFile) {
    const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, k.transcript), 'utf8'), k.transcript);
    const f = await checkModel(t);
    assert.ok(f, `${k.transcript} agrees now: remove its entry (${k.cause})`);
    assert.ok(matchKnown(f!, { iotests: [], fuzz: [k] }), `${k.transcript}: the model now differs otherwise: [${f!.category}] ${f!.command}: ${f!.message}`);
  }
});

test.run();
