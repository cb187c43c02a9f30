// Stop 44: the states the grammar had never drawn (oracle/fuzz/families/gaps44.ts): driven over the
// model's answers (no QEMU, QEMU 10.0's rules), the generator opens qcow2 nodes with their discard
// pass-through options, frees clusters under them (an internal snapshot deleted or undone, a zero
// write with unmap) and asks query-blockstats, some of whose file nodes then count discards; and
// it sends blockdev-backup with discard-source, some carried out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type Scenario } from '../../oracle/format.js';
import { FUZZ_IMAGES, Generator, Rng, World } from '../../oracle/fuzz/index.js';
import { caseSeed } from '../../oracle/fuzz/rng.js';
import { modelRecorder } from '../../oracle/run-model.js';

/** Some file node of a query-blockstats reply (any depth) counts discarded bytes. */
function countsDiscards(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(countsDiscards);
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const ds = o['driver-specific'] as Record<string, unknown> | undefined;
  if (ds && Number(ds['discard-bytes-ok']) > 0) return true;
  return countsDiscards(o.parent) || countsDiscards(o.backing);
}

test('over the model, the generator draws qcow2 discard pass-through with freed clusters counted, and backups with discard-source', async () => {
  const drawn = { passOptions: 0, statsAfter: 0, discardsCounted: 0, discardSource: 0, discardSourceOk: 0 };
  for (let c = 0; c < 100; c++) {
    const s = caseSeed(4400, c);
    const world = new World();
    const gen = new Generator(new Rng(s), world);
    const scenario: Scenario = { name: `gaps-${s}`, description: '', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), replies: true, steps: [] };
    const model = await modelRecorder(scenario, undefined, { qemuVersion: '10.0', replies: true });
    let passed = false;
    for (let i = 0, n = 0; n < 25; i++) {
      const step = gen.next();
      if (!step) break;
      if (!isWaitStep(step)) n++;
      const out = await model.record(i, step);
      if (!isWaitStep(step) && !isWaitStep(out) && step.proc === undefined) {
        const a = step.arguments ?? {};
        if (step.execute === 'blockdev-add' && a.driver === 'qcow2' && Object.keys(a).some((k) => k.startsWith('pass-discard-'))) { drawn.passOptions++; passed = true; }
        if (step.execute === 'query-blockstats' && passed) {
          drawn.statsAfter++;
          if (out.result.ok && countsDiscards(out.result.return)) drawn.discardsCounted++;
        }
        if (step.execute === 'blockdev-backup' && a['discard-source'] !== undefined) { drawn.discardSource++; if (out.result.ok) drawn.discardSourceOk++; }
      }
      world.observe(step, out);
      gen.followUp(step, isWaitStep(out) || out.result.ok);
    }
    await model.close();
  }
  const all = JSON.stringify(drawn);
  assert.ok(drawn.passOptions > 5 && drawn.statsAfter > 0 && drawn.discardsCounted > 0, `discard pass-through: ${all}`);
  assert.ok(drawn.discardSource > 0 && drawn.discardSourceOk > 0, `discard-source: ${all}`);
});

test.run();
