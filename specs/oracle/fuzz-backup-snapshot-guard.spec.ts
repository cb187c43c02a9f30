// Fuzz 1693346616: a transaction that fails after a snapshot appended over the source of a backup
// copying at a speed limit hangs QEMU (external_snapshot_abort's drain of the overlay,
// graph/snapshot-abort-backup-hang.ts). The generator avoids the snapshot (oracle/fuzz/aborts.ts)
// only where the job may be copying at a limit: not for a sync none backup (recorded boundary
// abort-12-txn-snapshot-abort-over-backup-sync-none-survives), nor once the limit is lifted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { knownAbort, World } from '../../oracle/fuzz/index.js';
import type { CommandStep, Step, Transcript } from '../../oracle/format.js';

const load = (name: string) => JSON.parse(readFileSync(new URL(`../../oracle/transcripts/${name}.json`, import.meta.url), 'utf8')) as Transcript;
const syncNone = load('abort-12-txn-snapshot-abort-over-backup-sync-none-survives');
const txnAt = syncNone.steps.findIndex((s) => 'execute' in s && s.execute === 'transaction');

/** The view before the transaction, with the backup's arguments changed by `patch`. */
function viewBefore(patch: Record<string, unknown> = {}) {
  const w = new World();
  syncNone.steps.slice(0, txnAt).forEach((s) => {
    const step = ('execute' in s && s.execute === 'blockdev-backup' ? { ...s, arguments: { ...s.arguments, ...patch } } : s) as Step;
    w.observe(step, step as never);
  });
  return w;
}

test('sync none at a limit: the recorded snapshot transaction is sent', () => {
  assert.is(knownAbort(syncNone.steps[txnAt] as Step, viewBefore().proc('A')), undefined);
});

test('sync full at a limit: avoided; with the limit lifted by block-job-set-speed 0: sent', () => {
  const w = viewBefore({ sync: 'full' });
  assert.match(knownAbort(syncNone.steps[txnAt] as Step, w.proc('A')) ?? '', /^fuzz 1693346616/);
  const setSpeed = { proc: 'A', execute: 'block-job-set-speed', arguments: { device: 'd7', speed: 0 } } as CommandStep;
  w.observe(setSpeed, { ...setSpeed, result: { ok: true }, events: [], graph: w.proc('A').graph } as never);
  assert.is(knownAbort(syncNone.steps[txnAt] as Step, w.proc('A')), undefined);
});

test('sync top without a limit (waited for until done copying): sent', () => {
  const w = viewBefore({ sync: 'top', speed: undefined });
  assert.is(knownAbort(syncNone.steps[txnAt] as Step, w.proc('A')), undefined);
});

test.run();
