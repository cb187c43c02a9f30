// Brings oracle/fuzz/known-disagreements.json up to date after model fixes land: listed iotests
// steps that agree now are dropped, new ones are added (cause to be analysed), and fuzz-found
// transcripts that agree now move into oracle/transcripts/ as regression transcripts (the
// conformance set, which must stay at 100%). Run by hand: `npm run known:refresh`.
import { renameSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkModel, loadKnown, matchKnown } from '../oracle/fuzz/index.js';
import { KNOWN_FILE } from '../oracle/fuzz/known.js';
import { scoreIotests } from '../oracle/fuzz/iotests.js';
import { parseTranscript } from '../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../oracle/paths.js';

const known = loadKnown();
const key = (t: string, s: number, c: string) => `${t}#${s}#${c}`;
const { disagreements } = await scoreIotests();
const found = new Map(disagreements.map((d) => [key(`iotests/${d.transcript}`, d.step, d.category), d]));
const before = known.iotests.length;
known.iotests = known.iotests.filter((k) => found.has(key(k.transcript, k.step, k.category)));
const listed = new Set(known.iotests.map((k) => key(k.transcript, k.step, k.category)));
let added = 0;
for (const [k, d] of found) {
  if (listed.has(k)) continue;
  known.iotests.push({ transcript: `iotests/${d.transcript}`, step: d.step, category: d.category, differs: d.differs, cause: 'not yet analysed (appeared when the issue-12 fixes were merged)' });
  added++;
}
const fuzz = [];
let moved = 0;
for (const k of known.fuzz) {
  if (!k.transcript) { fuzz.push(k); continue; }
  const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, k.transcript), 'utf8'), k.transcript);
  const f = await checkModel(t);
  if (!f) {
    renameSync(join(TRANSCRIPTS_DIR, k.transcript), join(TRANSCRIPTS_DIR, `fuzz-${basename(k.transcript)}`));
    moved++;
    continue;
  }
  if (!matchKnown(f, { iotests: [], fuzz: [k] })) {
    k.pattern = f.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    k.command = f.command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    k.category = f.category;
    k.differs = f.message;
    k.cause = `${k.cause} (now differs otherwise)`;
  }
  fuzz.push(k);
}
known.fuzz = fuzz;
writeFileSync(KNOWN_FILE, JSON.stringify(known, null, 1) + '\n');
console.log(`iotests: ${before} -> ${known.iotests.length} listed (${added} new); fuzz-found: ${moved} agree now and moved to oracle/transcripts/fuzz-*.json`);
