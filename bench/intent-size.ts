// Stop 42: log size with the intent before the model (engine/intent.ts) against without it, on the
// add/del workload, each command sequential on an idle log (so each one goes intent first). The
// log's records are the same (specs/engine/intent-first.spec.ts: hash for hash); what the intent
// adds is one meta key, overwritten by each command, and its bytes in LevelDB's WAL until the
// next compaction. node --import tsx bench/intent-size.ts [N=2000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchLogSize } from './write.js';

const n = Number(process.argv[2] ?? 2000);
console.log('| mode (sequential add/del) | commands | log values B / command | keys+values B / command | ratio to QMP text (values) | files before compaction B / command | after compaction B / command |');
console.log('|---|---|---|---|---|---|---|');
for (const intentFirst of [false, true]) {
  const dir = mkdtempSync(join(tmpdir(), 'bg-intent-size-'));
  try {
    const r = await benchLogSize(dir, n, 'adddel', { intentFirst, sequential: true });
    const per = (x: number) => (x / r.commands).toFixed(0);
    console.log(`| ${intentFirst ? 'intent first (the default)' : '--no-intent-first'} | ${r.commands} | ${per(r.logValueBytes)} | ${per(r.storedBytes)} | ${(r.logValueBytes / r.qmpBytes).toFixed(2)}x | ${per(r.filesBeforeCompaction)} | ${per(r.diskBytes)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
