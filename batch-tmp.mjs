import { ClassicLevel } from 'classic-level';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const n = 1500;
const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
for (const sync of [true, false]) for (const k of [1, 2, 5, 10]) for (const vlen of [0, 550]) {
  const dir = mkdtempSync(join(tmpdir(), 'bg-b-'));
  const db = new ClassicLevel(join(dir, 'db'));
  await db.open();
  const v = 'x'.repeat(vlen);
  const walls = [];
  for (let i = 0; i < n; i++) {
    const ops = [];
    for (let j = 0; j < k; j++) ops.push({ type: 'put', key: 'k' + j + '.' + i, value: v });
    const t = process.hrtime.bigint();
    const p = db.batch(ops, { keyEncoding: 'utf8', valueEncoding: 'utf8', sync });
    walls.push(Number(process.hrtime.bigint() - t) / 1000);
    await p;
  }
  console.log(`sync=${sync} puts=${k} vlen=${vlen}`.padEnd(30), 'batch() call wall p50 µs', med(walls).toFixed(1));
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
