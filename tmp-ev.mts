import { scoreAreas } from './specs/conformance/helpers.js';
import { readdirSync } from 'node:fs';
const s = await scoreAreas(['add-del','permissions','locking','reopen','freeze','jobs','replace','aio-context']);
for (const [a, v] of Object.entries(s.byArea)) console.log(a, JSON.stringify((v as any).percent));
for (const t of s.transcripts) for (const x of t.steps) if (!x.events) console.log(t.name, x.index, x.what, x.diff.join(' | '));
