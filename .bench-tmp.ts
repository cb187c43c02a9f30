import { mkdtempSync, rmSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { benchRawBatch, benchLogAppend, benchRawIterate, benchLogRead, benchLogVerifyOpen } from './bench/store.ts';
const root = mkdtempSync(join(tmpdir(), 'bgb-'));
const n = Number(process.argv[2] ?? 50000), bs = Number(process.argv[3] ?? 100);
console.log('raw write', await benchRawBatch(join(root,'r'), n, bs) | 0, 'log write', await benchLogAppend(join(root,'l'), n, bs) | 0);
for (let i = 0; i < 5; i++) {
  const bare = await benchRawIterate(join(root,'r'), false), rp = await benchRawIterate(join(root,'r')), lr = await benchLogRead(join(root,'l')), v = await benchLogVerifyOpen(join(root,'l'));
  console.log(`bare ${bare|0} raw+parse ${rp|0} log ${lr|0} => ${(100*lr/rp).toFixed(0)}% / ${(100*lr/bare).toFixed(0)}%  verify ${v|0}`);
}
rmSync(root, { recursive: true, force: true });
