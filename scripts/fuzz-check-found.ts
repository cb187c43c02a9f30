import { readFileSync } from 'node:fs';
import { checkModel, loadKnown, matchKnown } from '../oracle/fuzz/index.js';
import { parseTranscript } from '../oracle/format.js';
const known = loadKnown();
for (const f of process.argv.slice(2)) {
  const t = parseTranscript(readFileSync(f, 'utf8'), f);
  const x = await checkModel(t);
  const k = x ? matchKnown(x, known) : undefined;
  console.log(f.split('/').pop(), x ? `${x.category} ${x.command}: ${x.message.slice(0, 100)} => ${k ? 'KNOWN' : 'UNMATCHED'}` : 'agrees');
}
