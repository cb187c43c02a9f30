// Runs a scenario against any QMP peer (real QSD or the model) and records a transcript with the
// README's attribution and settling rules, so that both sides are recorded the same way.
import type { Subscription } from 'rxjs';
import { BlockgraphError } from '../errors/index.js';
import type { NamedBlockNode, QmpConnection, QmpEvent, QmpReply, XDebugBlockGraph } from '../commands/protocol.js';
import {
  TRANSCRIPT_FORMAT, isWaitStep,
  type ImageSpec, type Json, type JsonObject, type Scenario, type Step, type StepResult, type Transcript, type TranscriptStep,
} from './format.js';
import { EventNormalizer, findDetachedJobFilter, normalizeGraph, normalizeString } from './normalize.js';
import { normalizeReply, recordsReply } from './replies.js';
import { startRefusedStep, VmStartRefused } from './start-refused.js';

export interface HarnessOptions {
  /** The daemons' working directory: stripped from every string. */
  dir?: string;
  /** How long a `wait` step (and settling) may poll; the README's 20 s by default. */
  waitTimeoutMs?: number;
  /** Pause between two polls of `query-jobs` / `query-block-exports`. */
  pollIntervalMs?: number;
  /** The transcript's `qemu`; by default `query-version` of the first daemon opened. */
  qemu?: string;
  /**
   * How long a command may go without a reply before the daemon counts as hung (an Error saying
   * "… hung: no reply …"); unlimited by default. The fuzzer sets it: QEMU 10.0 hangs for good in
   * some graph changes (docs/fidelity.md), and one hung daemon must not stop a whole run.
   */
  replyTimeoutMs?: number;
  /** The scenario's `hmp-text`: a human-monitor-command step's reply text is its result's `return`. */
  hmpText?: boolean;
  /** The scenario's `replies`: a recorded query's reply (oracle/replies.ts) is its result's `return`. */
  replies?: boolean;
  /** When false, a wait that times out is recorded as it stands instead of failing the run. */
  failOnWaitTimeout?: boolean;
  /** Called before a `wait` step polls: the model advances its abstract job progress here. */
  beforeWait?: (conn: QmpConnection, job: string, status: string) => Promise<void>;
  /**
   * Called before the recorder settles a job start (settledStart): the model runs a job that
   * cannot block to its end here.
   */
  beforeStartSettle?: (conn: QmpConnection, job: string) => Promise<void>;
  /** How long a settled job start may poll before it is recorded as it stands (3 s by default). */
  startSettleMs?: number;
  /**
   * vm target with ACPI PCI hotplug kept on (the `vm` member's `acpi-pci-hotplug`, libvirt's q35):
   * a device_del of a PCI device settles once QEMU has answered, the device still there
   * (acpi_pcihp_device_unplug_request_cb waits for the guest's eject; no DEVICE_DELETED comes).
   */
  acpiPciHotplug?: boolean;
  /** Progress hook, e.g. for a CLI; awaited, so a caller may extend `scenario.steps` from it (the fuzzer does). */
  onStep?: (index: number, step: TranscriptStep) => void | Promise<void>;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 20_000;
/** How long a device_del waits for the DEVICE_DELETED of a device already gone from qom. */
const UNFINALIZED_GRACE_MS = 2_000;

/** `reply`, or an Error with `message` once `ms` pass without it (no limit when `ms` is undefined). */
function withReplyTimeout<T>(reply: Promise<T>, ms: number | undefined, message: string): Promise<T> {
  if (ms === undefined) return reply;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([reply, hung]).finally(() => clearTimeout(timer));
}

/** Job statuses at which a successful verb counts as settled (`null` = the job is gone). */
const SETTLE_JOB: Record<string, readonly string[]> = {
  'job-cancel': ['concluded', 'pending', 'null'],
  'block-job-cancel': ['concluded', 'pending', 'null'],
  // a job in standby (paused, job_complete accepts it) completes only when it is resumed
  'job-complete': ['pending', 'concluded', 'null', 'standby'],
  'block-job-complete': ['pending', 'concluded', 'null', 'standby'],
  'job-pause': ['paused', 'standby', 'pending', 'concluded', 'null'],
  'block-job-pause': ['paused', 'standby', 'pending', 'concluded', 'null'],
  'job-resume': ['running', 'ready', 'pending', 'concluded', 'null'],
  'block-job-resume': ['running', 'ready', 'pending', 'concluded', 'null'],
  // the create job does host I/O only and ends moments later (block/create.c): let it finish
  'blockdev-create': ['concluded', 'null'],
};

const RESUME_VERBS = new Set(['job-resume', 'block-job-resume']);

/**
 * A job started without a speed and with auto-finalize on copies in the main loop right after
 * the reply (job_start -> aio_co_enter runs job_co_entry at once), so whether the graph query
 * after the command still sees it is a race with one QMP round trip (docs/fidelity.md "Jobs
 * with default flags against the graph query": a 1 MiB stream or backup is gone half the time).
 * Such a start is settled like a verb: the recorder polls until the job is gone or stops on its
 * own (pending/concluded without the automatic steps, paused by an error or a drain, a ready
 * active commit), bounded, and records what it found then. Returns the job's id.
 */
const SETTLE_START = new Set(['block-stream', 'block-commit', 'blockdev-backup', 'drive-backup',
  // migration/savevm.c: qmp_snapshot_{save,load,delete} start a job whose run schedules one main-loop
  // BH (snapshot_*_job_bh) that does the whole save/load/delete, vm_stop/vm_start included; settled
  // so its statuses and the STOP/RESUME it causes land in the step that started it
  'snapshot-save', 'snapshot-load', 'snapshot-delete']);
const START_SETTLED = ['null', 'concluded', 'pending', 'paused', 'standby', 'ready'];
function settledStart(execute: string, args: Record<string, unknown>): string | undefined {
  if (!SETTLE_START.has(execute)) return undefined;
  if (args.speed !== undefined && args.speed !== 0) return undefined;
  if (args['auto-finalize'] === false) return undefined;
  // backup_run with sync none only ends when it is cancelled
  if ((execute === 'blockdev-backup' || execute === 'drive-backup') && args.sync === 'none') return undefined;
  const id = args['job-id'] ?? args.device;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The jobs a successful step starts that the recorder settles (settledStart). A transaction starts
 * its jobs the same way, each in its action's commit phase (blockdev_backup_commit's job_start,
 * once qmp_transaction has run every prepare): libvirt's push backup-begin of one disk is one
 * action; of two disks, or incremental from a checkpoint, it is a blockdev-backup per disk next to
 * the bitmap actions (block-dirty-bitmap-add/-merge of each backup's bitmap). A transaction is
 * settled only when every job-starting action in it would be on its own and every other action
 * only touches dirty bitmaps, each job in turn; one that also changes the graph (a snapshot next
 * to a backup, combo-c3-txn-snapshot-over-filter) is recorded as it stands, as before.
 */
function settledStarts(execute: string, args: Record<string, unknown>): string[] {
  if (execute !== 'transaction') {
    const id = settledStart(execute, args);
    return id === undefined ? [] : [id];
  }
  const actions = args.actions;
  if (!Array.isArray(actions)) return [];
  const ids: string[] = [];
  for (const a of actions as { type?: unknown; data?: unknown }[]) {
    if (typeof a?.type !== 'string') return [];
    if (!SETTLE_START.has(a.type)) {
      if (actions.length > 1 && !a.type.startsWith('block-dirty-bitmap-')) return [];
      continue;
    }
    if (typeof a.data !== 'object' || a.data === null) return [];
    const id = settledStart(a.type, a.data as Record<string, unknown>);
    if (id === undefined) return [];
    ids.push(id);
  }
  return ids;
}

interface Proc {
  name: string;
  conn: QmpConnection;
  buffer: QmpEvent[];
  sub: Subscription;
  events: EventNormalizer;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function unwrap<T>(reply: QmpReply, what: string): T {
  if ('error' in reply) throw new BlockgraphError('BG_QMP_ERROR', `${what} failed: ${reply.error.desc}`, { class: reply.error.class });
  return reply.return as T;
}

async function jobStatus(conn: QmpConnection, job: string): Promise<string> {
  const jobs = unwrap<{ id: string; status: string }[]>(await conn.execute('query-jobs'), 'query-jobs');
  return jobs.find((j) => j.id === job)?.status ?? 'null';
}

/**
 * Whether block job `job` still counts a pause (query-block-jobs `paused` is
 * `job->pause_count > 0`, block_job_query_locked): after job-resume, only a drained section
 * still holding it does (job_user_resume -> job_resume_locked counts the user's pause down
 * before the reply, and returns without entering the job while `pause_count` stays above 0).
 */
async function blockJobPauseCounted(conn: QmpConnection, job: string): Promise<boolean> {
  const reply = await conn.execute('query-block-jobs');
  if ('error' in reply) return false;
  return (reply.return as { device: string; paused: boolean }[]).some((j) => j.device === job && j.paused);
}

async function exportExists(conn: QmpConnection, id: string): Promise<boolean> {
  const exports = unwrap<{ id: string }[]>(await conn.execute('query-block-exports'), 'query-block-exports');
  return exports.some((e) => e.id === id);
}

/** Polls until `done` holds; returns false on timeout. */
async function pollUntil(done: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

const jobArg = (args: Record<string, unknown>): string | undefined =>
  (typeof args.id === 'string' ? args.id : typeof args.device === 'string' ? args.device
    : typeof args['job-id'] === 'string' ? args['job-id'] : undefined);

const statusOf = (ev: QmpEvent) => (ev.event === 'JOB_STATUS_CHANGE' ? ev.data?.status : undefined);

/**
 * An HMP job verb through human-monitor-command (block/monitor/block-hmp-cmds.c: hmp_block_job_*
 * call qmp_block_job_*): settled as that QMP verb (SETTLE_JOB), its job named by the line's last
 * word. The job's status changes follow the reply as a QMP verb's do.
 */
const HMP_JOB_VERBS: Record<string, string> = {
  block_job_cancel: 'block-job-cancel', block_job_complete: 'block-job-complete',
  block_job_pause: 'block-job-pause', block_job_resume: 'block-job-resume',
};
function hmpJobVerb(execute: string, args: Record<string, unknown>): { execute: string; job: string } | undefined {
  if (execute !== 'human-monitor-command' || typeof args['command-line'] !== 'string') return undefined;
  const words = args['command-line'].trim().split(/\s+/);
  const verb = HMP_JOB_VERBS[words[0]!];
  const job = words.filter((w, i) => i > 0 && w !== '-f');
  return verb && job.length === 1 ? { execute: verb, job: job[0]! } : undefined;
}

/**
 * QSD 7.2 races the reply of a mirror/active-commit start against the job's first I/O: `ready`
 * lands before or after the reply from run to run (seen live: both orders within a few runs).
 * The public transcripts always have it in the following step (the `wait … ready`), so the
 * ready transition (JOB_STATUS_CHANGE ready + BLOCK_JOB_READY) of a job created in this very
 * step is handed on to the next step of the same daemon. Not stated in the README; inferred
 * from the corpus, where no command step ever holds a `ready`.
 */
function deferReadyOfStartedJobs(events: QmpEvent[], buffer: QmpEvent[]): void {
  const started = new Set(events.filter((e) => statusOf(e) === 'created').map((e) => String(e.data?.id)));
  if (started.size === 0) return;
  const isReady = (e: QmpEvent) => (statusOf(e) === 'ready' && started.has(String(e.data?.id)))
    || (e.event === 'BLOCK_JOB_READY' && started.has(String(e.data?.device)));
  const moved = events.filter(isReady);
  if (moved.length === 0) return;
  const kept = events.filter((e) => !isReady(e));
  events.splice(0, events.length, ...kept);
  buffer.unshift(...moved);
}

/**
 * A backup of a small image can finish (waiting, pending, and on through finalize when it is
 * automatic) before the harness has read the reply: backup_run runs in the job's coroutine after
 * blockdev_backup_commit's job_start returned, so QEMU sends all of it after the reply, and the
 * moment the harness takes the buffer decides which step gets it. Its finishing statuses and BLOCK_JOB_* events of
 * a job started by a successful blockdev-backup or transaction step is handed on to the next step
 * of the same daemon (in recorded scenarios a `wait` for the job). The same holds for a mirror
 * that fails at once (mirror_run's size check: the job_exit bottom half runs after the reply,
 * as iotests/041-single-errors shows with the failure in the following step), and a backup whose
 * first source read fails (drive-backup starts its job the same way: qmp_drive_backup ->
 * do_backup_common -> job_start; fuzz-backup-source-read-error).
 */
const DEFER_FINISH = new Set(['blockdev-backup', 'drive-backup', 'transaction', 'blockdev-mirror', 'drive-mirror']);
function deferFinishOfStartedJobs(events: QmpEvent[], buffer: QmpEvent[]): void {
  const started = new Set(events.filter((e) => statusOf(e) === 'created').map((e) => String(e.data?.id)));
  if (started.size === 0) return;
  // (a paused/running pair is the drain at the end of the transaction: the normalizer drops it)
  const finishing = new Set(['waiting', 'pending', 'aborting', 'concluded', 'null']);
  const jobOf = (e: QmpEvent) => String(e.data?.id ?? e.data?.device ?? '');
  // the events of the started jobs' own reads after they started (a quorum's votes: QUORUM_*)
  // come from the job's coroutine as well
  const running = events.findIndex((e) => statusOf(e) === 'running' && started.has(jobOf(e)));
  const ioAfterStart = new Set(running < 0 ? [] : events.slice(running + 1).filter((e) => e.event.startsWith('QUORUM_')));
  const isLater = (e: QmpEvent) => ioAfterStart.has(e) || (started.has(jobOf(e))
    && (e.event === 'JOB_STATUS_CHANGE' ? finishing.has(String(statusOf(e))) : e.event.startsWith('BLOCK_JOB_')));
  const moved = events.filter(isLater);
  if (moved.length === 0) return;
  events.splice(0, events.length, ...events.filter((e) => !isLater(e)));
  buffer.unshift(...moved);
}

/**
 * block-job-set-speed's kick of a job asleep on its rate limit (block_job_set_speed_locked ->
 * job_enter_cond_locked): the command does not poll, so the job's coroutine runs only up to its
 * first yield (the next chunk's read) before the reply, and a loop that ends leaves through
 * job_co_entry's aio_bh_schedule_oneshot(job_exit): its waiting/pending/concluded/null statuses
 * and BLOCK_JOB_COMPLETED/CANCELLED/PENDING are sent from that bottom half, after the reply, and
 * every recording has them in the following step (030-c-stream-verbs #11, 040-c-manual-finalize
 * #3, job-stream-kick-ratelimit #7). They are handed on to the next step of the same daemon, like
 * deferFinishOfStartedJobs'. (job-resume and block-job-resume settle: the poll takes them.)
 */
const KICK_VERBS = new Set(['block-job-set-speed']);
function deferFinishOfKickedJob(events: QmpEvent[], buffer: QmpEvent[], job: string): void {
  handOn(events, buffer, (e) => String(e.data?.id ?? e.data?.device ?? '') === job && isJobExitEvent(e));
}

/** What job_exit's bottom half sends: the finishing statuses and BLOCK_JOB_COMPLETED/CANCELLED/PENDING. */
const EXIT_STATUSES = new Set(['waiting', 'pending', 'aborting', 'concluded', 'null']);
function isJobExitEvent(e: QmpEvent): boolean {
  return e.event === 'JOB_STATUS_CHANGE' ? EXIT_STATUSES.has(String(statusOf(e)))
    : e.event === 'BLOCK_JOB_COMPLETED' || e.event === 'BLOCK_JOB_CANCELLED' || e.event === 'BLOCK_JOB_PENDING';
}

/** Moves the step's events `later` picks to the front of the daemon's buffer: the next step takes them. */
function handOn(events: QmpEvent[], buffer: QmpEvent[], later: (e: QmpEvent, i: number) => boolean): void {
  const moved = events.filter(later);
  if (moved.length === 0) return;
  events.splice(0, events.length, ...events.filter((e, i) => !later(e, i)));
  buffer.unshift(...moved);
}

/**
 * qmp_blockdev_reopen (blockdev.c) ends every entry's bdrv_subtree_drained_begin in one loop after
 * bdrv_reopen_multiple, and nothing polls after it: the last bdrv_subtree_drained_end over a
 * speed-limited stream's or commit's nodes resumes it (child_job_drained_end -> job_resume ->
 * job_enter), its loop runs the next iteration, whose copy is I/O in flight when the command
 * answers, and a loop that ends leaves through job_co_entry's aio_bh_schedule_oneshot(job_exit):
 * the finishing statuses and BLOCK_JOB_COMPLETED/CANCELLED/PENDING come from that bottom half,
 * after the reply, whether the reopen succeeded or failed. Every recording has them in the
 * following step (iotests/161-m-commit-running-reopen-base-ro #3, combo-c6-freeze-commit-and-stream-adjacent #14,
 * iotests/245-block-stream-3-iothread #8, combo-c15-commit-below-cor-export #12); they are handed on to
 * the next step of the same daemon, as deferFinishOfKickedJob's are.
 */
const DRAIN_END_WAKES = new Set(['blockdev-reopen']);
function deferFinishOfWokenJobs(events: QmpEvent[], buffer: QmpEvent[], carried: number): void {
  // only this command's own: what the step took over from before it stays where it is
  handOn(events, buffer, (e, i) => i >= carried && isJobExitEvent(e));
}

/**
 * Records steps one at a time against the peers `openProc` opens (once per daemon letter, on its
 * first use), with the README's attribution and settling rules. `runScenario` walks a scenario with
 * it; the fuzzer drives two of them (QSD and the model) in lockstep, so each step is compared as
 * soon as both sides ran it instead of replaying the prefix. `close()` closes every connection.
 */
export class ScenarioRecorder {
  private readonly procs = new Map<string, Proc>();
  private qemuVersion: string | undefined;
  private readonly timeout: number;
  private readonly interval: number;
  /** The step being recorded (named by a hang of any exchange it makes). */
  private at = -1;

  constructor(
    private readonly name: string,
    private readonly openProc: (proc: string) => Promise<QmpConnection>,
    private readonly opts: HarnessOptions = {},
  ) {
    this.qemuVersion = opts.qemu;
    this.timeout = opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.interval = opts.pollIntervalMs ?? 10;
  }

  /** The transcript's `qemu`: `query-version` of the first daemon opened, unless given. */
  get qemu(): string { return this.qemuVersion ?? 'unknown'; }

  private async proc(name: string): Promise<Proc> {
    const known = this.procs.get(name);
    if (known) return known;
    const conn = await this.openProc(name);
    // Every exchange gets the reply timeout, not only the step's command: QEMU can hang after it
    // answered (a bottom half the command scheduled; fuzz seed 2026120801: 7.2's
    // bdrv_unfreeze_backing_chain spinning in bdrv_cor_filter_drop), and the recorder's own
    // queries after the step (settling, waits, the graph) would then wait for ever.
    const ms = this.opts.replyTimeoutMs;
    if (ms !== undefined) {
      const execute = conn.execute.bind(conn);
      conn.execute = (command, args) => withReplyTimeout(execute(command, args), ms,
        `${this.name} step ${this.at}: the QEMU process ${name} hung: no reply to '${command}' within ${ms} ms`);
    }
    const p: Proc = { name, conn, buffer: [], sub: undefined as unknown as Subscription, events: new EventNormalizer() };
    p.sub = conn.events$.subscribe((ev) => p.buffer.push(ev));
    this.procs.set(name, p);
    if (this.qemuVersion === undefined) {
      const r = await conn.execute('query-version');
      if ('error' in r) this.qemuVersion = 'unknown';
      else {
        const v = r.return as { qemu: { major: number; minor: number; micro: number }; package?: string };
        const num = `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}`;
        this.qemuVersion = v.package?.trim() ? `${num} (${v.package.trim()})` : num;
      }
    }
    return p;
  }

  /** Runs step `index` of the scenario and returns it as recorded. */
  async record(index: number, step: Step): Promise<TranscriptStep> {
    const { opts, timeout, interval } = this;
    const dir = opts.dir;
    const where = `${this.name} step ${index}`;
    this.at = index;
    const p = await this.proc(step.proc ?? 'A');
    const events: QmpEvent[] = [];
    let result: StepResult | undefined;
    let settleFailed: string | undefined;
    let settledJob: string | undefined;

    if (isWaitStep(step)) {
      const { job, status } = step.wait;
      await opts.beforeWait?.(p.conn, job, status);
      const reached = await pollUntil(async () => {
        const ok = (await jobStatus(p.conn, job)) === status;
        // taken in the same turn as the reply that showed the status: nothing later slips in
        if (ok) events.push(...p.buffer.splice(0));
        return ok;
      }, timeout, interval);
      if (!reached) {
        if (opts.failOnWaitTimeout !== false) {
          throw new BlockgraphError('BG_QMP_ERROR', `${where}: job '${job}' did not reach '${status}' within ${timeout} ms`, { step: index });
        }
        events.push(...p.buffer.splice(0));
      }
    } else {
      const args = (step.arguments ?? {}) as JsonObject;
      // (the reply timeout, when set, is on every exchange of p.conn: proc())
      // what an earlier step handed on (or QEMU sent between the steps) is ahead of this command's events
      const carried = p.buffer.length;
      const reply = await p.conn.execute(step.execute, args);
      events.push(...p.buffer.splice(0));
      const ok = !('error' in reply);
      p.events.noteCommand(step.execute, args, ok);
      if (ok) {
        // an HMP verb that printed an error (hmp_handle_error) did nothing to settle
        const hmp = (reply as { return?: unknown }).return === '' ? hmpJobVerb(step.execute, args) : undefined;
        const settle = SETTLE_JOB[hmp?.execute ?? step.execute];
        const job = hmp?.job ?? jobArg(args);
        let settled = true;
        if (settle && job !== undefined) {
          settled = await pollUntil(async () => {
            const status = await jobStatus(p.conn, job);
            // a job a drained section still pauses is not entered by job-resume: it stays paused
            // (standby) until the section ends (graph/jobs/held-drain.ts): recorded as it stands
            const done = settle.includes(status) || (RESUME_VERBS.has(hmp?.execute ?? step.execute) && (status === 'paused' || status === 'standby') &&
              await blockJobPauseCounted(p.conn, job));
            if (done) events.push(...p.buffer.splice(0));
            return done;
          }, timeout, interval);
        } else if (step.execute === 'device_del' && typeof args.id === 'string') {
          // vm target: native PCIe hotplug without a guest unplugs at once, but the
          // DEVICE_DELETED events may trail the reply; the device's own (with `device`) is the last
          const id = args.id;
          // an id-less device's event has only its path (/machine/peripheral-anon/device[N])
          const mine = (d: Record<string, unknown> | undefined) => d?.device === id || d?.path === id || d?.path === `/machine/peripheral/${id}`;
          const seen = () => events.concat(p.buffer).some((e) => e.event === 'DEVICE_DELETED' && mine(e.data));
          // ACPI PCI hotplug: the unplug request waits for a guest; the device stays on its bus
          const waitsForGuest = async () => this.opts.acpiPciHotplug === true && pciDeviceStays(await p.conn.execute('qom-list', { path: '/machine/peripheral' }), id);
          // device_finalize sends DEVICE_DELETED, and a device unparented from /machine/peripheral
          // may be finalized later (a reference dropped by an RCU callback: USB devices) or never (a
          // reference left behind: 7.2's qemu-xhci with a USB device on it). Gone from qom, it
          // settles on its event or after UNFINALIZED_GRACE_MS without one.
          let goneSince: number | undefined;
          const goneUnfinalized = async () => {
            if (typeof id !== 'string' || id.startsWith('/')) return false;
            if (goneSince === undefined) {
              if (peripheralHas(await p.conn.execute('qom-list', { path: '/machine/peripheral' }), id)) return false;
              goneSince = Date.now();
            }
            return Date.now() - goneSince >= UNFINALIZED_GRACE_MS;
          };
          settled = await pollUntil(async () => {
            if (!seen()) await p.conn.execute('query-version');
            const done = seen() || await waitsForGuest() || (!seen() && await goneUnfinalized());
            if (done) events.push(...p.buffer.splice(0));
            return done;
          }, timeout, interval);
        } else if (step.execute === 'migrate' || step.execute === 'migrate_cancel') {
          // migration/migration.c: qmp_migrate returns once the migration thread is spawned and
          // migrate_cancel once it asked it to stop; the thread ends in completed (the source's
          // images inactivated: migration_completion's bdrv_inactivate_all), failed or cancelled,
          // or parks in pre-switchover. A throttled migration stays active: recorded as it
          // stands after the start bound.
          const ends = new Set(['completed', 'failed', 'cancelled', 'pre-switchover']);
          await pollUntil(async () => {
            const r = await p.conn.execute('query-migrate');
            const st = 'error' in r ? undefined : (r.return as { status?: string }).status;
            const done = st === undefined || ends.has(st);
            if (done) events.push(...p.buffer.splice(0));
            return done;
          }, opts.startSettleMs ?? 3000, interval);
          events.push(...p.buffer.splice(0));
        } else if ((step.execute === 'block-export-del' && typeof args.id === 'string') || (step.execute === 'nbd-server-remove' && typeof args.name === 'string')) {
          // an export a connected client still holds (mode hard) goes when the client's coroutine
          // drops its reference, after the reply (blk_exp_unref -> blk_exp_delete_bh): its
          // BLOCK_EXPORT_DELETED belongs to this step. nbd-server-remove is qmp_block_export_del
          // by the export's id (iotests 140: the client of a removed export)
          const id = String(step.execute === 'block-export-del' ? args.id : args.name);
          settled = await pollUntil(async () => {
            const done = !(await exportExists(p.conn, id));
            if (done) events.push(...p.buffer.splice(0));
            return done;
          }, timeout, interval);
        }
        if (!settled) settleFailed = `${where}: '${step.execute}' did not settle within ${timeout} ms`;
        for (const started of settledStarts(step.execute, args)) {
          await opts.beforeStartSettle?.(p.conn, started);
          // a job still copying when the bound passes (a throttled source) is recorded as it stands
          await pollUntil(async () => {
            const done = START_SETTLED.includes(await jobStatus(p.conn, started));
            if (done) events.push(...p.buffer.splice(0));
            return done;
          }, opts.startSettleMs ?? 3000, interval);
          settledJob = started;
        }
      }
      result = 'error' in reply ? { ok: false, class: reply.error.class, desc: reply.error.desc }
        : this.opts.hmpText === true && step.execute === 'human-monitor-command' ? { ok: true, return: String(reply.return) }
          : this.opts.replies === true && recordsReply(step.execute) ? { ok: true, return: (reply.return ?? null) as Json } : { ok: true };
      deferReadyOfStartedJobs(events, p.buffer);
      // (a settled start keeps its job's end: the graph after it shows the job gone)
      if (result.ok && DEFER_FINISH.has(step.execute) && settledJob === undefined) deferFinishOfStartedJobs(events, p.buffer);
      if (result.ok && KICK_VERBS.has(step.execute)) deferFinishOfKickedJob(events, p.buffer, String(args.device ?? args.id ?? ''));
      if (DRAIN_END_WAKES.has(step.execute)) deferFinishOfWokenJobs(events, p.buffer, carried);
    }
    if (settleFailed && opts.failOnWaitTimeout !== false) throw new BlockgraphError('BG_QMP_ERROR', settleFailed, { step: index });

    const snap = await this.snapshotGraph(p, where);
    // no graph where a job filter is detached (snapshotGraph): the names the events and the error
    // text use come from x-debug-query-block-graph alone
    const { graph: full, rename } = normalizeGraph(snap.xdebug, snap.named ?? [], { dir });
    const graph = snap.named ? { graph: full } : {};
    const normEvents = p.events.normalize(events, rename, dir);

    if (isWaitStep(step)) return { proc: p.name, wait: step.wait, events: normEvents, ...graph };
    const r = result!;
    return {
      proc: p.name, execute: step.execute, arguments: (step.arguments ?? {}) as JsonObject,
      result: r.ok ? (r.return === undefined ? r
        : typeof r.return === 'string' && step.execute === 'human-monitor-command' ? { ok: true, return: normalizeString(r.return, rename, dir) }
          : { ok: true, return: normalizeReply(step.execute, r.return, rename, dir) })
        : { ok: false, class: r.class, desc: normalizeString(r.desc, rename, dir) },
      events: normEvents, ...graph,
    };
  }

  /**
   * The graph as two queries see it: x-debug-query-block-graph (nodes, edges, parents), then
   * query-named-block-nodes (driver, read-only, file, bitmaps). QEMU's main loop runs between the
   * two, so a job that ends there (a copy failing once a thread-pool read completes) drops its
   * filter from the second answer only, and the node would read as one without a driver. The
   * pair is taken again until a second x-debug-query-block-graph matches the first (bounded).
   * A node whose driver is gone (qcow2_signal_corruption sets bs->drv = NULL) makes
   * query-named-block-nodes fail as a whole (bdrv_block_device_info: "Block device %s is
   * ejected"): a BG_QMP_ERROR naming that (run-case.ts ends the case there, inconclusive).
   *
   * The one window where the recorder takes no graph (`named` absent; the step is written without
   * its `graph`): a job filter without children that its job still holds. A block-stream with
   * auto-dismiss false (libvirt's blockpull) leaves its copy-on-read filter so between its
   * conclusion and job-dismiss (stream_prepare's bdrv_cor_filter_drop detaches it; the job's
   * reference keeps it), and query-named-block-nodes there crashes QEMU (bdrv_block_device_info
   * -> bdrv_query_image_info -> bdrv_getlength -> cor_getlength: bdrv_getlength(bs->file->bs) with
   * no file child; 7.2 and 10.0). libvirt itself sends only query-jobs and job-dismiss there.
   */
  private async snapshotGraph(p: Proc, where: string): Promise<{ xdebug: XDebugBlockGraph; named?: NamedBlockNode[] }> {
    let xdebug = unwrap<XDebugBlockGraph>(await p.conn.execute('x-debug-query-block-graph'), `${where}: x-debug-query-block-graph`);
    for (let attempt = 0; ; attempt++) {
      if (findDetachedJobFilter(xdebug) !== undefined) return { xdebug };
      const named = unwrap<NamedBlockNode[]>(await p.conn.execute('query-named-block-nodes', { flat: true }), `${where}: query-named-block-nodes`);
      const again = unwrap<XDebugBlockGraph>(await p.conn.execute('x-debug-query-block-graph'), `${where}: x-debug-query-block-graph`);
      if (JSON.stringify(again) === JSON.stringify(xdebug) || attempt >= 20) return { xdebug, named };
      xdebug = again;
    }
  }

  async close(): Promise<void> {
    for (const p of this.procs.values()) {
      p.sub.unsubscribe();
      await p.conn.close().catch(() => undefined);
    }
    this.procs.clear();
  }
}

/**
 * Runs `scenario` step by step. `openProc` is called once per daemon letter, on its first use;
 * capability negotiation is the connection's business. All opened connections are closed at the end.
 */
/**
 * Whether qom-list of /machine/peripheral still has this id as a PCI device (child<…-pci>): its
 * ACPI unplug request waits for a guest. (query-pci cannot tell: without a guest no root port has
 * a secondary bus number, so it lists nothing behind them.) A SCSI device is not a PCI device: its
 * unplug completes, and its DEVICE_DELETED is waited for as on any machine.
 */
function pciDeviceStays(reply: unknown, id: string): boolean {
  const props = (reply as { return?: { name: string; type: string }[] }).return;
  // nvme is a PCI device whose type name has no -pci suffix (hw/nvme/ctrl.c TYPE_NVME)
  // nvme, the USB host controllers and lsi53c895a are PCI devices whose type names have no -pci
  // suffix (hw/nvme/ctrl.c TYPE_NVME, hw/usb/hcd-*.c, hw/scsi/lsi53c895a.c)
  return Array.isArray(props) && props.some((x) => x.name === id &&
    /^child<(.*-pci|nvme|qemu-xhci|nec-usb-xhci|usb-ehci|ich9-usb-ehci\d|piix3-usb-uhci|piix4-usb-uhci|ich9-usb-uhci\d|lsi53c895a|lsi53c810|megasas|megasas-gen2|mptsas1068|am53c974|dc390)>$/.test(x.type));
}

function peripheralHas(reply: unknown, id: string): boolean {
  const props = (reply as { return?: { name: string; type: string }[] }).return;
  return !Array.isArray(props) || props.some((x) => x.name === id);
}

export async function runScenario(
  scenario: Scenario,
  openProc: (proc: string) => Promise<QmpConnection>,
  opts: HarnessOptions = {},
): Promise<Transcript> {
  const acpi = scenario.vm?.['acpi-pci-hotplug'] === true || (scenario.vm?.machine === 'pc' && scenario.vm.acpi !== false);
  const rec = new ScenarioRecorder(scenario.name, openProc,
    { ...opts, ...(acpi ? { acpiPciHotplug: true } : {}), ...(scenario['hmp-text'] === true ? { hmpText: true } : {}),
      ...(scenario.replies === true ? { replies: true } : {}) });
  const steps: TranscriptStep[] = [];
  let qemu: string | undefined;
  try {
    for (const [index, step] of scenario.steps.entries()) {
      let out: TranscriptStep;
      try {
        out = await rec.record(index, step);
      } catch (e) {
        // a machine QEMU refused to start (oracle/start-refused.ts): its exit status and stderr are
        // the first step's outcome, and nothing after it runs (there is no process)
        if (!(e instanceof VmStartRefused) || index !== 0 || isWaitStep(step)) throw e;
        out = startRefusedStep(step, e.exitCode, e.stderr, opts.dir);
        qemu = opts.qemu ?? e.version;
        steps.push(out);
        await opts.onStep?.(index, out);
        break;
      }
      steps.push(out);
      await opts.onStep?.(index, out);
    }
  } finally {
    await rec.close();
  }
  return transcriptOf(scenario, qemu ?? rec.qemu, steps);
}

/** The transcript of `scenario` recorded on `qemu` as `steps`. */
export function transcriptOf(scenario: Scenario, qemu: string, steps: TranscriptStep[]): Transcript {
  return {
    format: TRANSCRIPT_FORMAT, name: scenario.name, description: scenario.description, covers: scenario.covers,
    qemu, ...(scenario.host !== undefined ? { host: scenario.host } : {}),
    images: scenario.images, ...(scenario.vm !== undefined ? { vm: scenario.vm } : {}),
    ...(scenario['hmp-text'] === true ? { 'hmp-text': true as const } : {}),
    ...(scenario.replies === true ? { replies: true as const } : {}), steps,
  };
}

/** Creates the scenario's images in order (backing files come first in every scenario). */
export async function setupImages(
  scenario: Scenario,
  dir: string,
  createImage: (image: ImageSpec, dir: string) => Promise<void>,
): Promise<void> {
  for (const image of scenario.images) {
    // a relative path below the image directory (iotests 040 TestRelativePaths keeps its images
    // in subdirectories): no absolute path, no '.' or '..' component, no empty one
    if (image.file.startsWith('/') || image.file.split('/').some((c) => c === '' || c === '.' || c === '..')) {
      throw new BlockgraphError('BG_BAD_INPUT', `image file '${image.file}' must be a file name or a relative path below the image directory`);
    }
    await createImage(image, dir);
  }
}
