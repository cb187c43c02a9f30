// Stop 43: the forms the grammar had never drawn (oracle/fuzz/families/gaps43.ts): driven over the
// model's answers (no QEMU), the generator sends x-blockdev-amend (and dismisses its job),
// block_resize of a node a job holds, and blockdev-reopen of a filter naming another node as its
// filtered child; some of each are carried out, so the forms reach past the argument checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type Scenario } from '../../oracle/format.js';
import { FUZZ_IMAGES, Generator, Rng, World } from '../../oracle/fuzz/index.js';
import { caseSeed } from '../../oracle/fuzz/rng.js';
import { modelRecorder } from '../../oracle/run-model.js';

const FILTERS = new Set(['throttle', 'copy-on-read', 'compress', 'preallocate', 'blklogwrites', 'blkdebug']);

test('over the model, the generator draws x-blockdev-amend, block_resize under a job and a filter reopened onto another node', async () => {
  const drawn = { amend: 0, amendOk: 0, dismiss: 0, resizeHeld: 0, reopenFilter: 0, reopenFilterOk: 0 };
  for (let c = 0; c < 100; c++) {
    const s = caseSeed(4300, c);
    const world = new World();
    const gen = new Generator(new Rng(s), world);
    const scenario: Scenario = { name: `gaps-${s}`, description: '', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), replies: true, steps: [] };
    const model = await modelRecorder(scenario, undefined, { qemuVersion: '7.2', replies: true });
    for (let i = 0, n = 0; n < 25; i++) {
      const step = gen.next();
      if (!step) break;
      if (!isWaitStep(step)) n++;
      const p = world.proc('A');
      // what the World knew before the step: the nodes jobs hold, the filters and their child
      const held = new Set([...p.jobs.values()].flatMap((j) => [j.device, ...(j.filter ? [j.filter] : [])]));
      const out = await model.record(i, step);
      if (!isWaitStep(step) && !isWaitStep(out) && step.proc === undefined) {
        const a = step.arguments ?? {};
        if (step.execute === 'x-blockdev-amend') { drawn.amend++; if (out.result.ok) drawn.amendOk++; }
        if (step.execute === 'job-dismiss' && /^am[01]$/.test(String(a.id)) && out.result.ok) drawn.dismiss++;
        if (step.execute === 'block_resize' && held.has(String(a['node-name']))) drawn.resizeHeld++;
        const o = Array.isArray(a.options) && a.options.length === 1 ? a.options[0] as Record<string, unknown> : undefined;
        const node = String(o?.['node-name']);
        if (step.execute === 'blockdev-reopen' && o && FILTERS.has(String(o.driver)) && p.options.has(node)) {
          const edge = o.driver === 'blkdebug' ? 'image' : 'file';
          if (typeof o[edge] === 'string' && o[edge] !== p.child(node, edge)) {
            drawn.reopenFilter++;
            if (out.result.ok) drawn.reopenFilterOk++;
          }
        }
      }
      world.observe(step, out);
      gen.followUp(step, isWaitStep(out) || out.result.ok);
    }
    await model.close();
  }
  const all = JSON.stringify(drawn);
  assert.ok(drawn.amend > 5 && drawn.amendOk > 0 && drawn.dismiss > 0, `amend: ${all}`);
  assert.ok(drawn.resizeHeld > 0, `resize under a job: ${all}`);
  assert.ok(drawn.reopenFilter > 0 && drawn.reopenFilterOk > 0, `filter reopened onto another node: ${all}`);
});

test.run();
