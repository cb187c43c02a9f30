// `npm run golden:update`: re-records specs/golden/*.jsonl from specs/golden/scenarios.ts, on a
// real LevelDB with the fixed clock. Deliberate only: the golden spec never writes them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFixture, printFixture } from '../replay/fixture.js';
import { openClassic } from '../store/index.js';
import { GOLDEN, recordGolden } from '../specs/golden/scenarios.js';

const only = process.argv[2];
for (const sc of GOLDEN.filter((s) => !only || s.name === only)) {
  const dir = mkdtempSync(join(tmpdir(), 'bg-golden-'));
  try {
    const db = join(dir, 'db');
    let log = await openClassic(db);
    log = await recordGolden(sc, log, async (dead) => { await dead.close(); return openClassic(db); });
    const f = await exportFixture(log, { description: `${sc.name}: ${sc.description}` });
    await log.close();
    const out = join('specs', 'golden', `${sc.name}.jsonl`);
    writeFileSync(out, printFixture(f));
    process.stderr.write(`${out}: ${f.records.length} records\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
