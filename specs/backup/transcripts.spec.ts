// Issue 18 part B: the transcripts recorded on qemu-storage-daemon 7.2 for blockdev-backup,
// copy-before-write, fleecing, NBD clients and raw slices, run on the model. Beyond the
// conformance set's outcome / error text / graph, every event (JOB_STATUS_CHANGE order across a
// grouped transaction, BLOCK_JOB_CANCELLED only for started jobs) must agree too.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareSuites } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { ORACLE } from '../conformance/helpers.js';

const OURS = /^(backup-|fleecing-|nbd-client-|raw-slice-|mirror-size-)/;

for (const f of readdirSync(ORACLE).filter((n) => OURS.test(n) && n.endsWith('.json')).sort()) {
  test(`${f}: every step agrees, events included`, async () => {
    const expected = parseTranscript(readFileSync(join(ORACLE, f), 'utf8'), f);
    const s = compareSuites([{ expected, actual: await runOnModel(scenarioOf(expected)) }]);
    const bad = s.transcripts.flatMap((t) => t.steps.filter((x) => !x.outcome || !x.errorText || !x.graph || !x.events)
      .map((x) => `#${x.index} ${x.what}: ${x.diff.join('; ')}`));
    assert.equal(bad, []);
  });
}

test.run();
