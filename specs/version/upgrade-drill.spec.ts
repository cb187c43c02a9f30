// `blockgraph drill upgrade --to 10.0`: tested on one log that holds every modelled 7.2 → 10.0
// difference (each scenario of a rule's proof run on the model as a 7.2 process of its own).
// What the drill must report comes from the recordings, not from the code: the steps where the
// scenario's 7.2 and 10.0 transcripts differ first, and 10.0's own error text.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { isWaitStep, parseTranscript, scenarioOf, type Scenario, type Transcript } from '../../oracle/format.js';
import { TRANSCRIPTS_10_0_DIR, TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';
import { RULES } from '../../graph/rules.js';
import { openClassic } from '../../store/index.js';
import { upgradeDrill } from '../../replay/upgrade.js';
import { main } from '../../cli/main.js';

const load = (dir: string, f: string): Transcript => parseTranscript(readFileSync(join(dir, f), 'utf8'), f);
// rules proved by a 7.2/10.0 pair (a 7.2 abort has no 7.2 log to upgrade from)
// (up to two single-process scenarios per rule: each becomes one process of the log, A, B, …;
// the vm target's pairs (vm/…) are VM processes, built by their machine: not in this QSD log)
const singleProc = (f: string) => load(TRANSCRIPTS_DIR, f).steps.every((s) => (s.proc ?? 'A') === 'A');
const files = [...new Set(Object.values(RULES).filter((r) => r.modelled).flatMap((r) =>
  // (a 10.0 abort's proof, luks-amend-header-io-aborts, has only its 7.2 transcript: nothing to compare the drill with)
  [...new Set(r.proof.map((p) => p.transcript))].filter((f) => !f.startsWith('aborts/') && !f.startsWith('vm/') && existsSync(join(TRANSCRIPTS_10_0_DIR, f)) && singleProc(f)).slice(0, 2)))].sort();

/** A scenario moved to process `proc`, its image files renamed so that processes do not share them. */
function asProc(s: Scenario, proc: string): Scenario {
  const ren = (f: string) => `${proc}-${f}`;
  const names = new Set(s.images.map((i) => i.file));
  const rewrite = (v: unknown): unknown => {
    if (typeof v === 'string') return names.has(v) ? ren(v) : v;
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
    return v;
  };
  return {
    ...s,
    images: s.images.map((i) => ({ ...i, file: ren(i.file), ...(i.backing && names.has(i.backing) ? { backing: ren(i.backing) } : {}) })),
    steps: s.steps.map((st) => ({ ...(rewrite(st) as typeof st), proc })),
  };
}

/** The status of every job after each step, from the recording's JOB_STATUS_CHANGE events. */
function jobStatusesAfter(t: Transcript): string[] {
  const now = new Map<string, string>();
  return t.steps.map((s) => {
    // (a job gone, status null, is the same as one that never was: a start 7.2 refuses, 10.0 runs and ends)
    for (const e of s.events ?? []) {
      if (e.event !== 'JOB_STATUS_CHANGE') continue;
      if (e.data?.status === 'null') now.delete(String(e.data?.id));
      else now.set(String(e.data?.id), String(e.data?.status));
    }
    return JSON.stringify([...now].sort());
  });
}

/** From the two recordings: per command step, 10.0's answer where the first difference shows. */
function expectedDifferences(f: string): { command: string; kind: string; desc10?: string; step: number }[] {
  const [a, b] = [load(TRANSCRIPTS_DIR, f), load(TRANSCRIPTS_10_0_DIR, f)];
  const out: { command: string; kind: string; desc10?: string; step: number }[] = [];
  // the drill runs every command on the recorded 7.2 state: a command that meets a job in another
  // state on 10.0 (an earlier wake-up 10.0 swallowed: rule wake-ends-rate-limit-sleep) answers
  // otherwise because of that earlier command, where the drill reports it
  const [ja, jb] = [jobStatusesAfter(a), jobStatusesAfter(b)];
  a.steps.forEach((s, i) => {
    const t = b.steps[i]!;
    if (isWaitStep(s) || isWaitStep(t)) return;
    if (i > 0 && ja[i - 1] !== jb[i - 1]) return;
    const prevSame = i === 0 || JSON.stringify(a.steps[i - 1]!.graph) === JSON.stringify(b.steps[i - 1]!.graph);
    // a query's recorded reply (a `replies` transcript, stop 40) is not among what the drill
    // reports (outcome, error text, graph): only the outcome counts there
    const res = (r: typeof s.result) => (r.ok && a.replies === true && s.execute !== 'human-monitor-command' ? { ok: true } : r);
    if (JSON.stringify(res(s.result)) !== JSON.stringify(res(t.result))) {
      out.push({ command: s.execute, kind: s.result.ok !== t.result.ok ? 'outcome' : 'error-text', ...(t.result.ok ? {} : { desc10: t.result.desc }), step: i });
    } else if (prevSame && JSON.stringify(s.graph) !== JSON.stringify(t.graph)) out.push({ command: s.execute, kind: 'graph', step: i });
  });
  return out;
}

/** A difference in the host's images only (`host:` lines of the drill's diff): no recording shows those. */
const hostOnly = (d: { kind: string; graph: string[] }) => {
  if (d.kind !== 'graph') return false;
  // and the lengths of the nodes over a host file that grew (bdrv_co_write_req_finish: a job's
  // writes, mirror-zero-writes-release-clusters), which no recorded graph shows either, nor the
  // wr_highest_offset those writes leave (graph/wr-highest.ts: a query-blockstats reply only)
  let inNode = false;
  return d.graph.every((l) => {
    if (l.startsWith('host:')) { inNode = false; return true; }
    if (/^process \w+: changed node /.test(l)) { inNode = true; return true; }
    return l.startsWith(' ') && (!inNode || /^\s+(size|wrHighest) /.test(l));
  });
};

/**
 * A difference in the drained sections a node is left in only (10.0's blockdev-reopen of a node
 * queued twice: rule reopen-queue-drains-per-call): no recording shows it until a later job meets
 * it, on a state the drill never has; like a host image, compared before that command only.
 */
const drainOnly = (d: { kind: string; graph: string[] }) =>
  d.kind === 'graph' && d.graph.every((l) => /^process \w+: changed node /.test(l) || /^\s+leakedDrains /.test(l));

/**
 * A difference in hidden node state only: the options a node was given explicitly (kept across
 * reopens, bdrv_reopen_commit's explicit_options) and its leaked drained sections. 10.0's
 * transaction commits last action first (rule transaction-commit-order), so a blockdev-snapshot's
 * reopen of its old node read-only can fail there and leave no explicit read-only=on: no
 * recording shows it until a later reopen meets it, on a state the drill never has.
 */
const explicitOnly = (d: { kind: string; graph: string[] }) =>
  d.kind === 'graph' && d.graph.every((l) => /^process \w+: changed node /.test(l) || /^\s+explicit\./.test(l) || /^\s+leakedDrains /.test(l));

/**
 * A difference in a job's copy progress only (its rate state: graph/jobs/rate.ts, e.g. a resume
 * that 10.0's block_job_ratelimit_sleep swallows): no recorded graph shows a job's offset.
 */
const jobProgressOnly = (d: { kind: string; graph: string[] }) =>
  d.kind === 'graph' && d.graph.every((l) => /^process \w+: changed job /.test(l) || /^\s+data\.rate\./.test(l));


/** JSON with sorted keys (a logged command's arguments need not keep the scenario's key order). */
const canon = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

/** Command steps whose previous graphs already differ between the two recordings. */
function graphUnknowable(f: string): Set<number> {
  const [a, b] = [load(TRANSCRIPTS_DIR, f), load(TRANSCRIPTS_10_0_DIR, f)];
  const out = new Set<number>();
  a.steps.forEach((s, i) => {
    if (i > 0 && JSON.stringify(a.steps[i - 1]!.graph) !== JSON.stringify(b.steps[i - 1]!.graph)) out.add(i);
  });
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'bg-upgrade-'));
const db = join(dir, 'db');
// A, B, …, Y, then Y25, Y26, … (never 'Z'; the process already on 10.0 is TEN)
const procs = files.map((_, i) => (i < 25 ? String.fromCharCode(65 + i) : `Y${i}`));
const TEN = 'Z10';

test.before(async () => {
  const log = await openClassic(db);
  const engine = await Engine.open(log);
  for (const [i, f] of files.entries()) await runOnModel(asProc(scenarioOf(load(TRANSCRIPTS_DIR, f)), procs[i]!), engine);
  // and one process already on 10.0: nothing of it is checked
  await runOnModel(asProc(scenarioOf(load(TRANSCRIPTS_DIR, 'add-del-basic.json')), TEN), engine, { qemuVersion: '10.0' });
  await log.close();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the log holds a proof of every modelled rule', () => {
  assert.ok(files.length >= 3, files.join(', '));
});

test('drill upgrade --to 10.0 reports exactly the recorded differences, with 10.0 texts', async () => {
  const log = await openClassic(db, { readOnly: true } as never).catch(() => openClassic(db));
  const r = await upgradeDrill(log.readChunks({}), '10.0');
  await log.close();
  assert.is(r.processes[TEN], '10.0');
  for (const [i, f] of files.entries()) {
    // a graph difference at a step whose previous graphs already differ in the recordings cannot be
    // checked against them (the drill runs every command on the 7.2 state): such steps are left out
    const scen = asProc(scenarioOf(load(TRANSCRIPTS_DIR, f)), procs[i]!);
    const unknowable = graphUnknowable(f);
    let at = -1;
    const stepOf = (d: { command: string; args: unknown }) => {
      // a wait step runs as x-blockgraph-job-advance to the status it waits for
      const waitOf = (st: (typeof scen.steps)[number]) => isWaitStep(st) && d.command === 'x-blockgraph-job-advance'
        && canon({ id: st.wait.job, status: st.wait.status }) === canon(d.args ?? {});
      at = scen.steps.findIndex((st, k) => k > at && (waitOf(st) || (!isWaitStep(st) && st.execute === d.command && canon(st.arguments ?? {}) === canon(d.args ?? {}))));
      return at;
    };
    const mine = r.differences.filter((d) => d.proc === procs[i]).map((d) => ({ d, step: stepOf(d) }));
    // A command whose only difference is the image it leaves on the host (bdrv_img_create's size:
    // fuzz-created-image-size-getlength) shows in the recordings only where a later command reads
    // that image, on a state the drill (each command run on the recorded 7.2 state) never has:
    // such a file is compared before that command only
    // A block-job-change 10.0 carries out (7.2 has no such command) changes a job's copy mode, which
    // no recorded graph shows: the drill's later commands on that job meet 7.2's unchanged mode, so
    // the file is compared up to that command only (iotests/151-e-copy-mode-*, wt-iote)
    const changed = mine.find(({ d }) => d.command === 'block-job-change' && d.after.ok)?.step;
    const hidden = Math.min(mine.find(({ d }) => hostOnly(d) || drainOnly(d) || explicitOnly(d))?.step ?? Infinity, changed === undefined ? Infinity : changed + 1);
    // (a wait step, run as x-blockgraph-job-advance, is left out as expectedDifferences leaves wait
    // steps out: a job only 10.0 started, as with BackupCommon's discard-source, advances there alone)
    const got = mine.filter(({ d, step }) => step < hidden && !jobProgressOnly(d) && !(d.kind === 'graph' && unknowable.has(step))
      && d.command !== 'x-blockgraph-job-advance')
      .map(({ d }) => ({ command: d.command, kind: d.kind, ...(d.after.ok ? {} : d.kind === 'graph' ? {} : { desc10: d.after.desc }) }));
    const want = expectedDifferences(f).filter((w) => w.step < hidden)
      .map(({ step: _s, ...w }) => (w.kind === 'graph' ? { command: w.command, kind: w.kind } : w));
    // node names in texts are the scenario's own (images were renamed, nodes were not)
    assert.equal(got, want, f);
  }
  assert.not.ok(r.differences.some((d) => d.proc === TEN));
  // one per proof step of a modelled rule: resize ×4, the cancelled commit, the transaction text
  assert.ok(r.differences.length >= files.reduce((n, f) => n + expectedDifferences(f).length, 0));
  assert.ok(r.differences.length >= 6, String(r.differences.length));
  // outcome: 10.0 refuses what 7.2 carries out (preallocate-drop-resize-bh's reopen, wt-combo3)
  assert.equal(new Set(r.differences.map((d) => d.kind)), new Set(['error-text', 'graph', 'outcome']));
  assert.equal(r.notes, []);
});

test('drill upgrade --to 7.2 of the same log: only the 10.0 process is checked, and it agrees', async () => {
  const log = await openClassic(db);
  const r = await upgradeDrill(log.readChunks({}), '7.2');
  await log.close();
  assert.ok(r.checked > 0);
  // add-del-basic is the same on both versions (its transcripts are equal but for the version)
  assert.equal(r.differences, []);
});

test('CLI exit codes: 1 with differences, 0 without, 2 on bad input', async () => {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
  const errw = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.is(await main(['drill', 'upgrade', '--to', '10.0', '--db', db, '--json']), 1);
    const j = JSON.parse(out.join('')) as { differences: unknown[]; to: string };
    assert.is(j.to, '10.0');
    assert.ok(j.differences.length > 0);
    out.length = 0;
    assert.is(await main(['drill', 'upgrade', '--to', '10.0', '--db', db]), 1);
    assert.match(out.join(''), /would change on QEMU 10\.0/);
    assert.is(await main(['drill', 'upgrade', '--to', '7.2', '--db', db]), 0);
    assert.is(await main(['drill', 'upgrade', '--to', '9.1', '--db', db]), 2);
    assert.is(await main(['drill', 'upgrade', '--to', '10.0', '--db', join(dir, 'nothing-here')]), 2);
  } finally {
    process.stdout.write = write;
    process.stderr.write = errw;
  }
});

test.run();
