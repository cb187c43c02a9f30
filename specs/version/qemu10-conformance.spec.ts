// Issue 19: the repo's scenarios recorded on qemu-storage-daemon 10.0.2 (oracle/transcripts/qemu-10.0)
// run through the model under 10.0's rules; targets as on 7.2: 100% outcome, >= 98% error text
// and graph. And the pair is honest: every step where the 7.2 and 10.0 recordings differ is a
// rule of graph/rules.ts (or a difference the model agrees with on both versions).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareSuites, compareTranscripts } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf, type Transcript } from '../../oracle/format.js';
import { TRANSCRIPTS_10_0_DIR, TRANSCRIPTS_DIR, VM_TRANSCRIPTS_DIR, vmTranscriptsDir } from '../../oracle/paths.js';
import { runOnModel, transcriptVersion } from '../../oracle/run-model.js';
import { RULES } from '../../graph/rules.js';

const files = readdirSync(TRANSCRIPTS_10_0_DIR).filter((f) => f.endsWith('.json')).sort();
const load = (dir: string, f: string) => parseTranscript(readFileSync(join(dir, f), 'utf8'), f);

/** Scenarios that cannot be recorded on 10.0 as written, each with the reason (docs/fidelity.md "QEMU 10.0"). */
const NOT_ON_10: Record<string, string> = {
  'job-speed-drain-wakeups.json': "step 12: the speed-limited stream does not reach 'pending' from drain wake-ups on 10.0.2 (block_job_ratelimit_sleep sleeps again after each: graph/rules.ts wake-ends-rate-limit-sleep), so the scenario's wait never ends",
  'fuzz-snapshot-over-compress.json': 'step 3: QEMU 10.0.2 hangs for good in bdrv_append above a compress filter (graph/rules.ts append-over-compress-hangs; the model refuses it under 10.0 rules, specs/version/qemu10-hangs.spec.ts)',
  'aio-backup-cbw-pulls-movable-source.json': "step 4: QEMU 10.0.2 aborts in bdrv_insert_node (Assertion `bdrv_get_aio_context(bs) == ctx' failed) when the filter's attach moves a source nothing pins in its iothread (graph/rules.ts insert-node-context-asserts; the model refuses it under 10.0 rules)",
  'aio-stream-cor-pulls-movable-source.json': "step 4: QEMU 10.0.2 aborts in bdrv_insert_node (Assertion `bdrv_get_aio_context(bs) == ctx' failed), as for the backup (graph/rules.ts insert-node-context-asserts)",
  'fuzz-commit-over-compress.json': 'step 3: QEMU 10.0.2 hangs for good in bdrv_append above a compress filter (mirror_start_job; graph/rules.ts append-over-compress-hangs)',
  // stop 38 (wt-luks2): a luks node's x-blockdev-amend that reads its key slots kills 10.0.2
  'luks2-keyslots-add-erase.json': "step 6: QEMU 10.0.2 aborts in the amend job (block_crypto_read_func: bdrv_graph_rdlock_main_loop: Assertion `!qemu_in_coroutine()' failed; graph/rules.ts luks-amend-header-io-aborts; the model refuses it under 10.0 rules)",
  'luks2-keyslots-fill.json': 'step 4: the same amend abort on QEMU 10.0.2 (luks-amend-header-io-aborts)',
  'luks2-amend-perms.json': 'step 5: the same amend abort on QEMU 10.0.2 (luks-amend-header-io-aborts)',
  'luks2-amend-two-daemons.json': 'step 10: the same amend abort on QEMU 10.0.2 (luks-amend-header-io-aborts)',
  // stop 42 (wt-combo14): the thirteenth held-out set, transactions
  // stop 43 (wt-combo15): the stream of a chain whose top a non-fixed export moved into io0
  'combo-c14-b2-iothread-exported-chain-stream.json': "step 8: QEMU 10.0.2 aborts in bdrv_insert_node (Assertion `bdrv_get_aio_context(bs) == ctx' failed): the stream's copy-on-read filter attach moves 'top', which the export put in io0 without fixed-iothread, back to the main loop (graph/rules.ts insert-node-context-asserts; the model refuses it under 10.0 rules); combo-c14-b2-iothread-pinned-chain-stream is the pinned form both versions record",
  'combo-c13-backup-iothread.json': "step 8: QEMU 10.0.2 aborts in bdrv_insert_node (Assertion `bdrv_get_aio_context(bs) == ctx' failed): the backup's filter attach moves a source x-blockdev-set-iothread put in io0, which nothing pins, back to the main loop (graph/rules.ts insert-node-context-asserts; the model refuses it under 10.0 rules)",
  // stop 44 (wt-combo16): the fifteenth held-out set
  'combo-c15-b2-backup-iothread-target-moved-snapshot.json': "step 10: QEMU 10.0.2 aborts in bdrv_insert_node (Assertion `bdrv_get_aio_context(bs) == ctx' failed): the backup's filter attach moves the source x-blockdev-set-iothread put in io0, which nothing pins, back to the main loop (graph/rules.ts insert-node-context-asserts; the model refuses it under 10.0 rules)",
  'combo-c15-b3-drive-backup-exported-iothread-source.json': "step 8: QEMU 10.0.2 aborts in bdrv_insert_node (Assertion `bdrv_get_aio_context(bs) == ctx' failed): the backup's filter attach moves 'top', which a writable NBD export without fixed-iothread put in io0, back to the main loop (graph/rules.ts insert-node-context-asserts; the model refuses it under 10.0 rules)",
};

/** Scenarios recorded on 10.0 only: 7.2 cannot run them as written (docs/fidelity.md "Stop 38"). */
const ONLY_ON_10: Record<string, string> = {
  'luks2-detached-header.json': "blockdev-create luks with a detached 'header' and its waits: 7.2's schema refuses 'header', so no job exists to wait for (luks2-detached-header-open is the pair both versions record)",
  // stop 39 (wt-fz19): fuzz --qemu 10.0 1595077198, the overlay of an inactive node
  'fuzz-snapshot-sync-inactive-file-existing-image.json': 'blockdev-set-active makes the node inactive: 7.2 has no such command, and a QSD 7.2 has no other way to an inactive node',
  'fuzz-snapshot-sync-inactive-overlay-takes-no-lock.json': 'blockdev-set-active (and block-export-add allow-inactive) are 10.0\'s: 7.2 reaches no inactive node in QSD',
  // stop 44 (wt-combo16): the fifteenth held-out set's two scenarios qemu-storage-daemon 7.2.22 dies in (qemu_mutex_unlock_impl: Operation not permitted; graph/rules.ts aio-context-lock-aborts, the model refuses both under 7.2 rules)
  'combo-c15-b2-quorum-iothread-change-child-context.json': "step 11: x-blockdev-change removing 'c0' from a quorum in io0 (qmp_x_blockdev_change takes no AioContext lock: quorum_del_child -> bdrv_unref_child moves the child out of io0) kills 7.2",
  'combo-c15-b2-reopen-list-refusals-export-iothread.json': "step 12: a reopen list attaching 'b' (io0) as the backing child of 'a' (main loop; bdrv_set_file_or_backing_noperm without io0's lock) kills 7.2",
  'combo-c15-b3-cbw-iothread-backup-chain.json': "step 6: a blockdev-add of a copy-before-write filter over 'top', which x-blockdev-set-iothread put in io0 (moved to the main loop without io0's lock), kills 7.2",
};

test('every scenario of oracle/transcripts is recorded on 10.0, and says so', () => {
  const own = [...readdirSync(TRANSCRIPTS_DIR).filter((f) => f.endsWith('.json') && !(f in NOT_ON_10)), ...Object.keys(ONLY_ON_10)].sort();
  assert.equal(files, own);
  for (const f of files) {
    const t = load(TRANSCRIPTS_10_0_DIR, f);
    assert.is(transcriptVersion(t), '10.0', f);
    assert.match(t.qemu, /^10\.0\.2 /);
  }
});

test('10.0 set under 10.0 rules: 100% outcome, >= 98% error text and graph', async () => {
  const pairs: { expected: Transcript; actual: Transcript }[] = [];
  for (const f of files) {
    const expected = load(TRANSCRIPTS_10_0_DIR, f);
    pairs.push({ expected, actual: await runOnModel(scenarioOf(expected), undefined, { qemuVersion: '10.0' }) });
  }
  const s = compareSuites(pairs);
  console.log(`  10.0: ${pairs.length} transcripts, ${s.totals.steps} steps, outcome ${s.percent.outcome}%, error text ${s.percent.errorText}%, graph ${s.percent.graph}%`);
  assert.is(s.percent.outcome, 100);
  assert.ok(s.percent.errorText >= 98);
  assert.ok(s.percent.graph >= 98);
});

test('each modelled rule: the 10.0 transcript of its proof agrees under 10.0 rules and not under 7.2 rules', async () => {
  for (const [name, r] of Object.entries(RULES)) {
    if (!r.modelled) continue;
    for (const { transcript, step } of r.proof) {
      if (!existsSync(join(TRANSCRIPTS_10_0_DIR, transcript))) {
        // a 10.0 abort (luks-amend-header-io-aborts) has no 10.0 transcript: the daemon dies
        // there; the 7.2 transcript agrees under 7.2 rules and not under 10.0's (the refusal)
        const t72 = load(TRANSCRIPTS_DIR, transcript);
        const at = async (v: '7.2' | '10.0') => {
          const s = compareTranscripts(t72, await runOnModel(scenarioOf(t72), undefined, { qemuVersion: v })).steps[step]!;
          return s.outcome && s.errorText && s.graph;
        };
        assert.ok(await at('7.2'), `${name}: ${transcript} #${step} under 7.2`);
        assert.not.ok(await at('10.0'), `${name}: ${transcript} #${step} agrees under 10.0 rules too: the rule is not what decides it`);
        continue;
      }
      const t10 = load(TRANSCRIPTS_10_0_DIR, transcript);
      // the recordings differ at that step (what makes it a version difference); a 7.2 abort
      // (aborts/) has no 7.2 transcript: the daemon dies there (scripts/probe-aborts.ts)
      if (existsSync(join(TRANSCRIPTS_DIR, transcript))) {
        const t72 = load(TRANSCRIPTS_DIR, transcript);
        assert.not.equal(JSON.stringify(t10.steps[step]), JSON.stringify(t72.steps[step]), `${name}: ${transcript} #${step} is the same on both`);
      } else assert.match(transcript, /^aborts\//);
      const agrees = async (v: '7.2' | '10.0') => {
        const c = compareTranscripts(t10, await runOnModel(scenarioOf(t10), undefined, { qemuVersion: v }));
        const s = c.steps[step]!;
        // a rule whose difference is in the events only (RULES' `shows`) is decided by them
        return s.outcome && s.errorText && s.graph && ((r as { shows?: string }).shows !== 'events' || s.events);
      };
      assert.ok(await agrees('10.0'), `${name}: ${transcript} #${step} under 10.0`);
      assert.not.ok(await agrees('7.2'), `${name}: ${transcript} #${step} agrees under 7.2 rules too: the rule is not what decides it`);
    }
  }
});

test('every 7.2 abort 10.0 survives agrees on the model under 10.0 rules', async () => {
  const dir = join(TRANSCRIPTS_10_0_DIR, 'aborts');
  const aborts = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(aborts.length >= 3);
  for (const f of aborts) {
    const t = load(dir, f);
    const c = compareTranscripts(t, await runOnModel(scenarioOf(t), undefined, { qemuVersion: '10.0' }));
    assert.equal(c.steps.filter((x) => !x.outcome || !x.errorText || !x.graph).map((x) => `${f} #${x.index}: ${x.diff.join('; ')}`), []);
  }
});

// the vm target: the scenarios of oracle/transcripts/vm recorded on qemu-system-x86_64 10.0.2
// (oracle/transcripts/qemu-10.0/vm, `record-transcripts --vm --qemu 10.0`); rule proofs name them 'vm/FILE'
const VM_10_0_DIR = vmTranscriptsDir('10.0');
const vmFiles = readdirSync(VM_10_0_DIR).filter((f) => f.endsWith('.json')).sort();

/** VM scenarios that cannot be recorded on 10.0 as written, each with the reason (docs/vm.md "QEMU 10.0"). */
const VM_NOT_ON_10: Record<string, string> = {
  'fuzz-vm-device-add-refused-drain-wakes-job.json': "step 6: the refused device_add's drains do not wake the speed-1 commit on 10.0.2 (graph/rules.ts wake-ends-rate-limit-sleep), so block-job-complete is refused and the wait for 'pending' never ends; its first seven steps are vm/vm-device-add-refused-drain-wake-complete.json on both versions",
  'vm-combo-virtio-throttle-active-commit.json': "step 14: QEMU 10.0.2 aborts in mirror_exit_common's bdrv_replace_node(mirror_top_bs, …, &error_abort) (Unexpected error in bdrv_a_allow_b: the disk sd0 writes c0, which c1's backing edge unshares once the active commit's filter goes): 10.0 has no dataplane op blocker, so sd0 was accepted on the backing node c0 at step 11 (graph/rules.ts dataplane-op-blocker); the model refuses the finalize under 10.0 rules (graph/jobs/mirror.ts refuseFilterRemovalConflict)",
};

test('vm: every scenario of oracle/transcripts/vm is recorded on qemu-system-x86_64 10.0, and says so', () => {
  const own = readdirSync(VM_TRANSCRIPTS_DIR).filter((f) => f.endsWith('.json') && !(f in VM_NOT_ON_10)).sort();
  assert.equal(vmFiles, own);
  for (const f of vmFiles) {
    const t = load(VM_10_0_DIR, f);
    assert.ok(t.vm, `${f}: a vm transcript carries its machine`);
    assert.is(transcriptVersion(t), '10.0', f);
    assert.match(t.qemu, /^10\.0\.2 /);
  }
});

test('vm: 10.0 set under 10.0 rules: 100% outcome, error text and graph', async () => {
  const pairs: { expected: Transcript; actual: Transcript }[] = [];
  for (const f of vmFiles) {
    const expected = load(VM_10_0_DIR, f);
    pairs.push({ expected, actual: await runOnModel(scenarioOf(expected), undefined, { qemuVersion: '10.0' }) });
  }
  const s = compareSuites(pairs);
  console.log(`  vm 10.0: ${pairs.length} transcripts, ${s.totals.steps} steps, outcome ${s.percent.outcome}%, error text ${s.percent.errorText}%, graph ${s.percent.graph}%`);
  assert.is(s.percent.outcome, 100);
  assert.is(s.percent.errorText, 100);
  assert.is(s.percent.graph, 100);
});

test('vm: the scenario QEMU 10.0 dies in is refused there by the model under 10.0 rules, with the abort named', async () => {
  const t72 = load(VM_TRANSCRIPTS_DIR, 'vm-combo-virtio-throttle-active-commit.json');
  const s = scenarioOf(t72);
  s.steps = s.steps.slice(0, 15);
  const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  const at = (i: number) => t.steps[i]!;
  const r11 = at(11), r14 = at(14);
  assert.ok(!('wait' in r11) && r11.result.ok, 'step 11: 10.0 takes the disk on the backing node (no dataplane blocker)');
  assert.ok(!('wait' in r14) && !r14.result.ok);
  if (!('wait' in r14) && !r14.result.ok) {
    assert.match(r14.result.desc, /Permission conflict on node 'c0': permissions 'write' are both required by block device 'sd0' \(uses node 'c0' as 'root' child\) and unshared by node 'c1' \(uses node 'c0' as 'backing' child\)/);
    assert.match(r14.result.desc, /QEMU aborts here: mirror_exit_common's bdrv_replace_node/);
  }
  // 7.2 refuses the disk at step 11 (virtio_scsi_hotplug's dataplane blocker) and finalizes
  const u = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  const u14 = u.steps[14]!;
  assert.ok(!('wait' in u14) && u14.result.ok);
});

test('every step where the 7.2 and 10.0 recordings differ is a proof of a rule in graph/rules.ts', () => {
  const proofs = new Set(Object.values(RULES).flatMap((r) => r.proof.map((p) => `${p.transcript}#${p.step}`)));
  const unexplained: string[] = [];
  for (const f of [...files.filter((x) => !(x in ONLY_ON_10)), ...vmFiles.map((x) => `vm/${x}`)]) {
    const [a, b] = [load(TRANSCRIPTS_DIR, f), load(TRANSCRIPTS_10_0_DIR, f)];
    a.steps.forEach((s, i) => {
      if (JSON.stringify(s) === JSON.stringify(b.steps[i])) return;
      // a difference the rule's first step causes carries on in the graphs after it
      const key = `${f}#${i}`;
      const earlier = [...proofs].some((p) => p.startsWith(`${f}#`) && Number(p.split('#')[1]) <= i);
      if (!proofs.has(key) && !earlier) unexplained.push(key);
    });
  }
  assert.equal(unexplained, []);
});

test.run();
