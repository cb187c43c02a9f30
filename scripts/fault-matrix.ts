// `npm run drill:storage`: every case of the storage-fault matrix (specs/store/fault-matrix.ts)
// on a store of COMMANDS engine commands, through the CLI in child processes (FAULT_RUNNER=in-process
// for a fast run), and prints the markdown table that docs/drills.md carries.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASES, childProcess, inProcess, makePristine, markdownTable, runCase, type Row } from '../specs/store/fault-matrix.js';

const commands = Number(process.env.COMMANDS ?? 1200);
const runner = process.env.FAULT_RUNNER === 'in-process' ? inProcess : childProcess;
const only = process.argv[2];
const root = mkdtempSync(join(tmpdir(), 'bg-faults-'));
try {
  const t0 = performance.now();
  const p = await makePristine(join(root, 'pristine'), commands);
  const layout = readdirSync(p.dir).map((f) => `${f} ${statSync(join(p.dir, f)).size}`).join(', ');
  console.error(`pristine: ${p.head} records, ${p.acked} acknowledged, ${((performance.now() - t0) / 1000).toFixed(1)} s; files: ${layout}`);
  const rows: Row[] = [];
  for (const c of CASES) {
    if (only && !c.name.includes(only)) continue;
    const t = performance.now();
    const r = await runCase(c, p, join(root, 'case'), runner);
    rows.push(r);
    console.error(`${c.name}: ${((performance.now() - t) / 1000).toFixed(1)} s; detected ${r.detected}, repair ${r.repairExit}, destroyed ${r.ackedDestroyed}, reported ${r.lossReported}${r.notes ? ` (${r.notes})` : ''}`);
  }
  console.log(`Store: ${p.head} records (${p.acked} acknowledged: the anchor), ${commands} engine commands, tables + WAL (64 KiB write buffer).\n`);
  console.log(markdownTable(rows, p.acked));
  const bad = rows.filter((r) => r.silentLoss > 0 || r.stackTraces > 0 || r.readChanged || !r.lossReported || (r.detected && r.verifyAfterExit !== 0));
  console.log(`\n${rows.length} cases: ${rows.filter((r) => r.detected).length} detected, ${rows.reduce((n, r) => n + r.silentLoss, 0)} acknowledged records lost silently, ${rows.reduce((n, r) => n + r.stackTraces, 0)} stack traces, ${rows.filter((r) => r.readChanged).length} cases where a read changed a file, ${rows.filter((r) => !r.lossReported).length} losses misreported.`);
  process.exitCode = bad.length ? 1 : 0;
} finally {
  rmSync(root, { recursive: true, force: true });
}
