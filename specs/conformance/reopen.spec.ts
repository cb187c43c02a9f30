// Issue 4's area against the real QEMU 7.2 transcripts: blockdev-reopen.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scoreAreas } from './helpers.js';

test('reopen: 100% outcome, >= 98% error text and graph', async () => {
  const s = await scoreAreas(['reopen']);
  const p = s.byArea.reopen!.percent;
  console.log(`  reopen: ${s.count} transcripts, ${s.totals.steps} steps, outcome ${p.outcome}%, error text ${p.errorText}%, graph ${p.graph}%`);
  assert.ok(s.count > 0);
  assert.is(p.outcome, 100, s.failing.join('\n'));
  assert.ok(p.errorText >= 98, s.failing.join('\n'));
  assert.ok(p.graph >= 98, s.failing.join('\n'));
});

test.run();
