// `blockgraph drill` stopped by SIGINT/SIGTERM (docs/hostile.md, round 5): the default action
// left the running children and their temp stores (bg-drill-*, each a LevelDB) behind. With
// DrillOptions.signal the children are killed, their dirs removed, the report says interrupted.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScenario } from '../../oracle/format.js';
import { drillRandom, drillScenario } from '../../replay/drill.js';

const file = 'oracle/transcripts/abort-10-backup-fails-target-main-loop-survives.json';

test('an aborted drill kills its children, removes their temp stores and reports what ran', async () => {
  const scenario = parseScenario(readFileSync(file, 'utf8'), file);
  const tmp = mkdtempSync(join(tmpdir(), 'bg-drill-spec-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // os.tmpdir() reads it on every call: the drill's dirs go here
  try {
    for (const run of [
      (signal: AbortSignal) => drillScenario(scenario, { jobs: 2, signal }),
      (signal: AbortSignal) => drillRandom(scenario, { jobs: 2, signal, kills: 20, seed: 1, length: 50 }),
    ]) {
      const stop = new AbortController();
      let seen = 0;
      const poll = setInterval(() => {
        const n = readdirSync(tmp).filter((f) => f.startsWith('bg-drill-')).length;
        seen = Math.max(seen, n);
        if (n > 0) setTimeout(() => stop.abort(), 300);
      }, 50);
      const t0 = Date.now();
      const r = await run(stop.signal);
      clearInterval(poll);
      assert.ok(seen > 0, 'children were running when it was stopped');
      assert.ok(r.interrupted, 'the report says it was interrupted');
      assert.ok(r.points < r.interrupted!.planned, `${r.points} of ${r.interrupted!.planned}`);
      assert.equal(readdirSync(tmp).filter((f) => f.startsWith('bg-drill-')), [], 'no temp store left behind');
      assert.ok(Date.now() - t0 < 60_000);
    }
  } finally {
    if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
