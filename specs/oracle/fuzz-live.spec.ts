// A fixed-seed budget of the live differential fuzzer (qemu-storage-daemon vs the model): every
// disagreement it meets must be a known one (oracle/fuzz/known-disagreements.json); the model
// must never throw (exit 70) and the generator must never kill the daemon. `npm run fuzz:qsd`
// runs a long one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fuzz, loadKnown } from '../../oracle/fuzz/index.js';
import { qsdAvailable } from '../../oracle/qsd.js';

if (!qsdAvailable()) {
  console.log('skipped: qemu-storage-daemon not installed (apt-get install -y qemu-utils qemu-system-common)');
  test('live fuzz (skipped: qemu-storage-daemon not installed)', () => undefined);
} else {
  test('fixed seed, 120 commands: no unknown disagreement, no model crash, no QEMU abort', async () => {
    const r = await fuzz({ seed: 20261202, commands: 120, caseLength: 20, parallel: 2, shrink: false, known: loadKnown() });
    assert.ok(r.commands >= 120 && r.cases > 0);
    const bad = r.distinct.filter((d) => !d.known || ['model-crash', 'qemu-abort', 'harness'].includes(d.finding.category));
    assert.equal(bad.map((d) => `[${d.finding.category}] ${d.finding.command}: ${d.finding.message}`), [],
      'run `blockgraph fuzz --against qsd --seed 20261202 --commands 120 --out DIR` to get minimal transcripts');
  });
}

test.run();
