// Events the conformance score does not gate (it grades outcome, error text and graph), pinned
// where stop 34's blind iotests port (wt-iotg) found the model sending other ones than QEMU:
// - a backup whose copy reads a snapshot-access node over anything but copy-before-write, or
//   writes one, fails in backup_loop: backup_error_action -> block_job_error_action sends
//   BLOCK_JOB_ERROR (read or write, action report) before the job ends (graph/jobs/backup.ts);
// - nbd-server-stop's BLOCK_EXPORT_DELETED order (graph/rules.ts nbd-server-stop-export-order);
// and where stop 40's lead found more in the whole corpus:
// - quorum_vote's QUORUM_FAILURE / QUORUM_REPORT_BAD, from a blockdev-add's header read (kept
//   when the command is refused) and from a backup's copy (graph/read.ts quorumRead, graph/io-events.ts);
// - a drive-backup into a probed raw target whose first sector is refused: BLOCK_JOB_ERROR (write);
// - a sync=bitmap backup after a failed bitmap-mode=always one copies the failed task's clusters
//   (backup_cleanup_sync_bitmap, backup_init_bcs_bitmap; graph/bitmap-contents.ts) and fails on the
//   same read.
// Steps are 0-based indexes into the transcripts' steps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTranscripts } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { TRANSCRIPTS_10_0_DIR, TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

async function eventsAgree(dir: string, file: string, steps: number[], qemuVersion: '7.2' | '10.0'): Promise<void> {
  const t = parseTranscript(readFileSync(join(dir, file), 'utf8'), file);
  const c = compareTranscripts(t, await runOnModel(scenarioOf(t), undefined, { qemuVersion }));
  for (const i of steps) {
    const s = c.steps[i]!;
    assert.ok(s.outcome && s.errorText && s.graph && s.events, `${file} #${i} (${qemuVersion}): ${s.diff.join('; ')}`);
  }
}

test('a backup failing on a snapshot-access node sends BLOCK_JOB_ERROR first (read, then write)', async () => {
  await eventsAgree(TRANSCRIPTS_DIR, 'iotests/tests-g-image-fleecing-cbw-bitmap.json', [12], '7.2');
  await eventsAgree(TRANSCRIPTS_DIR, 'fuzz-backup-snapshot-access-io.json', [3, 12], '7.2');
  await eventsAgree(TRANSCRIPTS_DIR, 'fuzz-backup-raw-over-snapshot-access.json', [5], '7.2');
  await eventsAgree(TRANSCRIPTS_10_0_DIR, 'iotests/tests-g-image-fleecing-cbw-bitmap.json', [12], '10.0');
});

test('nbd-server-stop deletes the exports by id on 7.2, newest first on 10.0', async () => {
  for (const [dir, v] of [[TRANSCRIPTS_DIR, '7.2'], [TRANSCRIPTS_10_0_DIR, '10.0']] as const) {
    await eventsAgree(dir, 'iotests/tests-nbd-multiconn-b.json', [6], v);
    await eventsAgree(dir, 'iotests/tests-nbd-multiconn-limited.json', [10], v);
    await eventsAgree(dir, 'iotests/tests-g-image-fleecing-backup-none.json', [13], v);
    await eventsAgree(dir, 'iotests/tests-g-image-fleecing-cbw-bitmap.json', [17], v);
    await eventsAgree(dir, 'iotests/tests-image-fleecing-b-cbw-bitmap.json', [14], v);
  }
});

test('a quorum vote sends QUORUM_FAILURE or QUORUM_REPORT_BAD, a refused command\'s included', async () => {
  for (const [dir, v] of [[TRANSCRIPTS_DIR, '7.2'], [TRANSCRIPTS_10_0_DIR, '10.0']] as const) {
    await eventsAgree(dir, 'fuzz-quorum-header-read-votes.json', [6, 8, 10], v);
    await eventsAgree(dir, 'fuzz-backup-quorum-read-vote-fails.json', [1, 2, 5, 6], v);
  }
});

test('a drive-backup into a probed raw target fails writing a qcow2 header into its first sector', async () => {
  for (const [dir, v] of [[TRANSCRIPTS_DIR, '7.2'], [TRANSCRIPTS_10_0_DIR, '10.0']] as const) {
    await eventsAgree(dir, 'probe-drive-backup-qcow2-header.json', [1, 2], v);
  }
});

test('a sync=bitmap backup copies what a failed bitmap-mode=always backup left, and fails there', async () => {
  for (const [dir, v] of [[TRANSCRIPTS_DIR, '7.2'], [TRANSCRIPTS_10_0_DIR, '10.0']] as const) {
    await eventsAgree(dir, 'combo-c10-b2-backup-bitmap-fail-modes.json', [3, 6, 9], v);
  }
});

test.run();
