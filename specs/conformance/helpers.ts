import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareSuites } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf, type Transcript } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';

export const ORACLE = new URL('../../oracle/transcripts/', import.meta.url).pathname;

/** Runs every transcript whose main area is in `areas` and scores the model against it. */
export async function scoreAreas(areas: string[]) {
  const pairs: { expected: Transcript; actual: Transcript }[] = [];
  for (const f of readdirSync(ORACLE).filter((f) => f.endsWith('.json')).sort()) {
    const expected = parseTranscript(readFileSync(join(ORACLE, f), 'utf8'), f);
    if (!areas.includes(expected.covers[0]!)) continue;
    pairs.push({ expected, actual: await runOnModel(scenarioOf(expected)) });
  }
  const s = compareSuites(pairs);
  const failing = s.transcripts.flatMap((t) => t.steps.filter((x) => !x.outcome || !x.errorText || !x.graph).map((x) => `${t.name} #${x.index} ${x.what}: ${x.diff.join('; ')}`));
  return { ...s, failing, count: pairs.length };
}
