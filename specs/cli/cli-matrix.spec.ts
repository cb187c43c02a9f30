// A bounded sample of the generated CLI matrix (scripts/cli-matrix.ts runs all of it, about 2000
// cells; docs/hostile.md round 7): cells drawn from the command table as it is now, so a flag
// added tomorrow can be drawn without editing anything. Commands that start QEMU or serve until
// stopped are left to the full run (they cost 3-8 s a cell). BG_MATRIX_SEED draws another sample.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildMatrix, closeWorld, COSTLY, makeWorld, runAll, sample, SERVES } from '../../scripts/cli-matrix.js';

const SEED = Number(process.env.BG_MATRIX_SEED ?? 34);
const N = 16;

test(`${N} cells of the CLI matrix (seed ${SEED}): documented exits, codes, no stack, reads write nothing`, async () => {
  const { cells, uncovered } = await buildMatrix();
  assert.equal(uncovered, [], 'every command has a base invocation in the matrix');
  assert.ok(cells.length > 1500, `${cells.length} cells`);
  // every declared flag of every command is in the matrix
  const flags = new Set(cells.map((c) => `${c.cmd} ${c.what.split('=')[0]}`));
  for (const must of ['show --at', 'qmp --feed-stall-ms', 'report --out', 'tail --connect', 'image create <size>']) assert.ok(flags.has(must), must);
  const pool = cells.filter((c) => !COSTLY.has(c.cmd) && !SERVES.has(c.cmd) && c.store !== 'held' && c.store !== 'read-only');
  // always some --db states and some value attacks
  const picked = [...sample(pool.filter((c) => c.kind === 'store'), 6, SEED), ...sample(pool.filter((c) => c.kind !== 'store'), N - 6, SEED)];
  const w = await makeWorld({ held: false, readOnly: false });
  try {
    const results = await runAll(w, picked, 2, () => undefined);
    const bad = results.filter((r) => r.why.length).map((r) => `#${r.n} ${r.cmd} ${r.what}: ${r.why.join('; ')} (${r.stderr})`);
    assert.equal(bad, [], bad.join('\n'));
  } finally {
    await closeWorld(w);
  }
});

test.run();
