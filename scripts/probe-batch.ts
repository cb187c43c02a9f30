// Differential probe over a directory of scenarios: records each one on the live
// qemu-storage-daemon (cached next to the scenario as NAME.rec.json, re-recorded when the
// scenario changes), runs it on the model and prints every step that disagrees, then the
// totals. Used to attack a mechanism with generated variations before keeping the scenarios
// that matter as transcripts.
//   node --import tsx scripts/probe-batch.ts DIR [--rerecord]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTranscripts } from '../oracle/compare.js';
import { parseScenario, parseTranscript, printTranscript } from '../oracle/format.js';
import { runScenario } from '../oracle/harness.js';
import { createImagesWithQemuImg, spawnQsd } from '../oracle/qsd.js';
import { runOnModel } from '../oracle/run-model.js';

const dir = process.argv[2];
if (!dir) { console.error('usage: probe-batch DIR [--rerecord]'); process.exit(2); }
const rerecord = process.argv.includes('--rerecord');
const tot = { steps: 0, outcome: 0, errorText: 0, graph: 0 };
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json') && !x.endsWith('.rec.json')).sort()) {
  const path = join(dir, f);
  const src = readFileSync(path, 'utf8');
  const scenario = parseScenario(src, path);
  const recPath = path.replace(/\.json$/, '.rec.json');
  let recText: string | undefined;
  if (!rerecord && existsSync(recPath)) {
    const prev = readFileSync(recPath, 'utf8');
    const t = parseTranscript(prev, recPath);
    if (JSON.stringify(t.steps.map((s) => ({ ...s, result: undefined, events: undefined, graph: undefined }))) ===
        JSON.stringify(scenario.steps.map((s) => ({ proc: 'A', ...s, ...('execute' in s ? { arguments: s.arguments ?? {} } : {}), result: undefined, events: undefined, graph: undefined })))) recText = prev;
  }
  if (!recText) {
    const tmp = mkdtempSync(join(tmpdir(), 'blockgraph-probe-'));
    try {
      await createImagesWithQemuImg(scenario, tmp);
      recText = printTranscript(await runScenario(scenario, () => spawnQsd(tmp), { dir: tmp }));
      writeFileSync(recPath, recText);
    } catch (e) {
      console.log(`${f}: RECORD FAILED ${(e as Error).message}`);
      continue;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const expected = parseTranscript(recText, recPath);
  let actual;
  try { actual = await runOnModel(scenario); } catch (e) { console.log(`${f}: MODEL THREW ${(e as Error).stack}`); continue; }
  const c = compareTranscripts(expected, actual);
  tot.steps += c.totals.steps; tot.outcome += c.totals.outcome; tot.errorText += c.totals.errorText; tot.graph += c.totals.graph;
  const bad = c.steps.filter((s) => !s.outcome || !s.errorText || !s.graph);
  if (bad.length) {
    console.log(`${f}:`);
    for (const s of bad) console.log(`  step ${s.index} ${s.what}: ${s.diff.join('; ')}`);
  }
}
console.log(`TOTAL steps ${tot.steps} outcome ${tot.outcome} errorText ${tot.errorText} graph ${tot.graph}`);
