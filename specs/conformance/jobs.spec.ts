// Issue 5's areas against the real QEMU 7.2 transcripts: jobs, freeze, replace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scoreAreas } from './helpers.js';

for (const area of ['jobs', 'freeze', 'replace']) {
  test(`${area}: 100% outcome, >= 98% error text and graph`, async () => {
    const s = await scoreAreas([area]);
    const p = s.byArea[area]!.percent;
    console.log(`  ${area}: ${s.count} transcripts, ${s.totals.steps} steps, outcome ${p.outcome}%, error text ${p.errorText}%, graph ${p.graph}%, events ${p.events}%`);
    assert.ok(s.count > 0);
    assert.is(p.outcome, 100, s.failing.join('\n'));
    assert.ok(p.errorText >= 98, s.failing.join('\n'));
    assert.ok(p.graph >= 98, s.failing.join('\n'));
  });
}

test.run();
