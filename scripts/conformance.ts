// Dev helper: run every oracle transcript through the model and print the scores. Each runs
// under the rules of the QEMU version that recorded it (its `qemu` member): `… oracle/transcripts/qemu-10.0`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareTranscripts } from '../oracle/compare.js';
import { parseTranscript, scenarioOf } from '../oracle/format.js';
import { TRANSCRIPTS_DIR, vmTranscriptsDir } from '../oracle/paths.js';
import { runOnModel, transcriptVersion } from '../oracle/run-model.js';

const dir = process.argv[2] || TRANSCRIPTS_DIR;
const filter = process.argv[3];
const verbose = process.argv.includes('-v');
const tot = { steps: 0, outcome: 0, text: 0, graph: 0 };
const area: Record<string, typeof tot> = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json') && (!filter || f.includes(filter))).sort()) {
  const expected = parseTranscript(readFileSync(join(dir, f), 'utf8'));
  let actual;
  try {
    actual = await runOnModel(scenarioOf(expected), undefined, { qemuVersion: transcriptVersion(expected) });
  } catch (e) {
    console.log(`${f}: CRASH ${(e as Error).stack}`);
    continue;
  }
  const c = compareTranscripts(expected, actual);
  const a = (area[c.area] ??= { steps: 0, outcome: 0, text: 0, graph: 0 });
  for (const t of [tot, a]) { t.steps += c.totals.steps; t.outcome += c.totals.outcome; t.text += c.totals.errorText; t.graph += c.totals.graph; }
  const bad = c.steps.filter((s) => !s.outcome || !s.errorText || !s.graph);
  console.log(`${bad.length ? 'FAIL' : 'ok  '} ${f} ${c.totals.outcome}/${c.totals.errorText}/${c.totals.graph} of ${c.totals.steps}`);
  if (verbose) for (const s of bad) console.log(`   #${s.index} ${s.what}: ${s.diff.join(' | ')}`);
}
const pct = (n: number, d: number) => ((100 * n) / d).toFixed(1);
for (const [k, t] of Object.entries(area)) console.log(`${k}: outcome ${pct(t.outcome, t.steps)}% text ${pct(t.text, t.steps)}% graph ${pct(t.graph, t.steps)}% (${t.steps} steps)`);
console.log(`TOTAL outcome ${pct(tot.outcome, tot.steps)}% text ${pct(tot.text, tot.steps)}% graph ${pct(tot.graph, tot.steps)}% (${tot.steps} steps)`);

// the vm target (issue 17): its own transcripts, reported apart (only with the default set), 7.2's
// then 10.0's (oracle/transcripts/qemu-10.0/vm), each under the rules of the QEMU that recorded it
for (const vmDir of process.argv[2] ? [] : [vmTranscriptsDir('7.2'), vmTranscriptsDir('10.0')]) {
  const VM_TRANSCRIPTS_DIR = vmDir;
  const vt = { steps: 0, outcome: 0, text: 0, graph: 0 };
  let bad = 0;
  for (const f of readdirSync(VM_TRANSCRIPTS_DIR).filter((f) => f.endsWith('.json') && (!filter || f.includes(filter))).sort()) {
    const expected = parseTranscript(readFileSync(join(VM_TRANSCRIPTS_DIR, f), 'utf8'));
    const c = compareTranscripts(expected, await runOnModel(scenarioOf(expected), undefined, { qemuVersion: transcriptVersion(expected) }));
    vt.steps += c.totals.steps; vt.outcome += c.totals.outcome; vt.text += c.totals.errorText; vt.graph += c.totals.graph;
    const badSteps = c.steps.filter((s) => !s.outcome || !s.errorText || !s.graph);
    if (badSteps.length) { bad++; console.log(`FAIL vm/${f} ${c.totals.outcome}/${c.totals.errorText}/${c.totals.graph} of ${c.totals.steps}`); }
    if (verbose) for (const s of badSteps) console.log(`   #${s.index} ${s.what}: ${s.diff.join(' | ')}`);
  }
  console.log(`VM${vmDir.includes('qemu-10.0') ? ' 10.0' : ''} TOTAL outcome ${pct(vt.outcome, vt.steps)}% text ${pct(vt.text, vt.steps)}% graph ${pct(vt.graph, vt.steps)}% (${vt.steps} steps${bad ? `, ${bad} transcripts failing` : ''})`);
}
