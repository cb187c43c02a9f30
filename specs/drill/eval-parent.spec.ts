// A drill started from `node -e` (as a one-off script or a spec runner does) must start its
// children on the drill's child module only: they once inherited the parent's `-e`, ran the
// parent's code again and forked drills of their own (seen: 70 processes, load 150).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('children of a drill run from `node -e` do not run the parent\'s code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-eval-parent-'));
  try {
    const marker = join(dir, 'starts');
    const code = `
      import('node:fs').then(async (fs) => {
        fs.appendFileSync(${JSON.stringify(marker)}, 'start\\n');
        const { drillRandom } = await import(${JSON.stringify(join(root, 'replay/drill.ts'))});
        const { parseScenario } = await import(${JSON.stringify(join(root, 'oracle/format.ts'))});
        const { TRANSCRIPTS_DIR } = await import(${JSON.stringify(join(root, 'oracle/paths.ts'))});
        const s = parseScenario(fs.readFileSync(TRANSCRIPTS_DIR + '/add-del-basic.json', 'utf8'), 'add-del-basic');
        const r = await drillRandom(s, { kills: 1, seed: 7, length: 5, jobs: 1 });
        console.log(JSON.stringify({ points: r.points, failures: r.failures.length }));
      });`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const starts = readFileSync(marker, 'utf8').trim().split('\n').length;
    assert.is(starts, 1, `the parent's code ran ${starts} times`);
    assert.is(run.status, 0, String(run.stderr).slice(-500));
    assert.equal(JSON.parse(String(run.stdout).trim().split('\n').at(-1)!), { points: 1, failures: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
