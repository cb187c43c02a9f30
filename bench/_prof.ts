import { ClassicLevel } from 'classic-level';
import { ChainReader, sublevelsOf } from '../store/codec.js';
import { emptyFold } from '../replay/fold.js';
import { LazyFold } from '../replay/fold-lazy.js';
const db = new ClassicLevel<string, string>(process.argv[2]!, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
await db.open();
const { logPrefix, logEnd } = sublevelsOf(db);
const vals: string[] = [];
for await (const v of db.values({ gte: logPrefix, lt: logEnd })) vals.push(v);
await db.close();
for (let i = 0; i < 30; i++) { const c = new ChainReader(1, ''); const l = new LazyFold(emptyFold()); for (const v of vals) l.feed(c, v); l.materialize(); }
