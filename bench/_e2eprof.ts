import { openClassic } from '../store/index.js';
import { replay } from '../replay/replay.js';
const dir = process.argv[2]!;
const log = await openClassic(dir, { anchor: false, verify: 'none' });
for (let i = 0; i < 15; i++) await replay(log, { fromScratch: true });
await log.close();
