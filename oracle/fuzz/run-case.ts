// One fuzz case: a sequence generated live against qemu-storage-daemon (each command drawn over
// the graph QEMU reported after the previous one), then the same sequence run on the model, and
// the two transcripts compared with the oracle's measures.
import { join } from 'node:path';
import { isBlockgraphError } from '../../errors/index.js';
import { compareSteps, compareTranscripts, type StepComparison } from '../compare.js';
import { TRANSCRIPT_FORMAT, isWaitStep, scenarioOf, type Json, type Scenario, type Step, type Transcript, type TranscriptStep } from '../format.js';
import { ScenarioRecorder, runScenario } from '../harness.js';
import { imageRoot, onHostOf } from '../image-root.js';
import { createImagesWithQemuImg, spawnQsd } from '../qsd.js';
import type { QemuBinaries } from '../qemu-bins.js';
import { modelRecorder, runOnModel, transcriptVersion } from '../run-model.js';
import type { ModelBackend } from '../../commands/model-host.js';
import { FUZZ_IMAGES, Generator } from './grammar.js';
import { FUZZ_VM, FUZZ_VM_PC, VmGenerator } from './grammar-vm.js';
import { spawnVm } from '../qemu-vm.js';
import { makeOwnedDir, removeOwned } from '../temp-dirs.js';
import { Rng } from './rng.js';
import { copyKeepingHoles, dataExtents, type DataExtents } from './copy-holes.js';
import { World } from './world.js';

/**
 * `reply`: outcome, error text and graph agree, but a query's normalised reply (oracle/replies.ts,
 * `"replies": true`) or an HMP `info` text (`"hmp-text": true`, the vm target) does not.
 */
export type Category = 'outcome' | 'error-text' | 'graph' | 'reply' | 'model-crash' | 'qemu-abort' | 'harness';

export interface Finding {
  category: Category;
  /** Index of the first disagreeing step (or the step that crashed). */
  step: number;
  command: string;
  /** The first difference as the comparator words it. */
  message: string;
}

export interface CaseOutcome {
  scenario: Scenario;
  /** Command steps sent (wait steps not counted). */
  commands: number;
  qsd?: Transcript;
  /** The disagreement that ended the case. */
  finding?: Finding;
  /** Known error-text and reply disagreements the case went on after (a refusal or a query: states still equal). */
  passed: Finding[];
  /** Why the case stopped early without a finding (a wait whose job failed on the daemon, or a node QEMU ejected). */
  inconclusive?: string;
}

/**
 * Image files are made once per run with qemu-img/qemu-io and copied into each case's directory.
 * Copies and removals go through libuv's thread pool (fs/promises): done synchronously they held
 * the event loop for about a quarter of a run (the seven images are ~50 MB a case). Case
 * directories live on /dev/shm where there is one: a tmpfs has no discard on unlink.
 */
export class ImageCache {
  private dir: Promise<string> | undefined;
  /** Each cached image's data extents, read once, so a case's copy keeps its holes (copy-holes.ts). */
  private readonly extents = new Map<string, DataExtents>();
  private readonly removing = new Set<Promise<void>>();
  /** Case directories whose removal failed: retried by dispose. */
  private readonly failed = new Set<string>();
  /**
   * Where case directories are made (its host facts, the O_DIRECT alignment, go to the model):
   * `root` when given (the specs' temp root), else the oracle's image root.
   */
  readonly root: string;
  /** The QEMU whose daemon, qemu-img and qemu-io the cases run (default: the system's 7.2). */
  constructor(readonly bins?: QemuBinaries, root?: string) {
    this.root = root ?? tmpRoot();
  }
  prepare(): Promise<string> {
    this.dir ??= (async () => {
      const dir = await makeOwnedDir(this.root, 'bg-fuzz-img');
      try {
        await createImagesWithQemuImg({ name: 'images', description: '', covers: ['fuzz'], images: FUZZ_IMAGES, steps: [] }, dir, this.bins);
        for (const im of FUZZ_IMAGES) this.extents.set(im.file, await dataExtents(this.bins?.img ?? 'qemu-img', join(dir, im.file)));
      } catch (e) {
        await removeOwned(dir).catch(() => undefined);
        throw e;
      }
      return dir;
    })();
    return this.dir;
  }
  /**
   * A fresh directory for a case. With the fuzz images, nothing is copied yet: `ensure` copies
   * each image (and the images its header chain names) just before the first step that names
   * its file, so a case pays only for the images it opens (most open two or three of seven).
   * The directory is `bg-fuzz-PID-XXXXXX` (oracle/temp-dirs.ts: a dead owner's is swept by the
   * next run); when making its images fails, it is removed before the error is thrown (it used
   * to be left: no caller had its name yet).
   */
  async caseDir(scenario: Scenario): Promise<CaseDir> {
    const dir = await makeOwnedDir(this.root, 'bg-fuzz');
    const same = scenario.images.length === FUZZ_IMAGES.length && scenario.images.every((im, i) => im.file === FUZZ_IMAGES[i]!.file);
    let src: string;
    try {
      if (!same) {
        await createImagesWithQemuImg(scenario, dir, this.bins);
        return { dir, ensure: async () => undefined };
      }
      src = await this.prepare();
    } catch (e) {
      await removeOwned(dir).catch(() => undefined);
      throw e;
    }
    const copied = new Set<string>();
    const copy = async (file: string): Promise<void> => {
      for (let f: string | undefined = file; f && !copied.has(f); f = FUZZ_BY_FILE.get(f)?.backing) {
        copied.add(f);
        await copyKeepingHoles(join(src, f), join(dir, f), this.extents.get(f)!);
      }
    };
    return {
      dir,
      ensure: async (step: Step) => {
        if (isWaitStep(step)) return;
        for (const f of fileNames(step.arguments ?? {})) if (FUZZ_BY_FILE.has(f)) await copy(f);
      },
    };
  }
  /**
   * Removes a case directory in the background (awaited by dispose, so disk use stays bounded):
   * after the processes still running in it exited (removeOwned), with retries; a failure is kept
   * for dispose to retry instead of being swallowed (an ENOTEMPTY from a daemon still writing
   * left the directory behind for good).
   */
  release(dir: string): Promise<void> {
    const p: Promise<void> = removeOwned(dir).catch(() => { this.failed.add(dir); }).finally(() => this.removing.delete(p));
    this.removing.add(p);
    return p;
  }
  /** Awaits the removals, retries the failed ones, removes the image directory; returns what it could not remove. */
  async dispose(): Promise<string[]> {
    await Promise.all([...this.removing]);
    const d = this.dir;
    this.dir = undefined;
    const left: string[] = [];
    const img = d ? await d.catch(() => undefined) : undefined;
    for (const dir of [...this.failed, ...(img ? [img] : [])]) {
      try { await removeOwned(dir); } catch { left.push(dir); }
    }
    this.failed.clear();
    return left;
  }
}

/**
 * A daemon that has not answered a command for this long is hung (QEMU 10.0 can hang for good,
 * e.g. bdrv_append above a compress filter): the case ends with a qemu-abort finding instead of
 * stopping the run. Far above any real reply, even on a loaded machine.
 */
export const FUZZ_REPLY_TIMEOUT_MS = 60_000;

export interface RunOptions {
  waitTimeoutMs?: number;
  images: ImageCache;
  /** `vm`: cases run on qemu-system-x86_64 with the fuzz machine and the guest-device grammar (grammar-vm.ts). */
  target?: 'qsd' | 'vm';
  /** vm target: the fuzz machine's type (default q35: FUZZ_VM; pc: FUZZ_VM_PC). */
  machine?: 'q35' | 'pc';
  /** The model's backend for a case (default a fresh MemoryBackend): specs put a wrong model here to see it caught. */
  modelBackend?: () => ModelBackend;
}

/** spawnQsd's options for a case's daemon: its label, and the binary of the version fuzzed. */
const qsdOpts = (proc: string, opts: RunOptions) => ({ label: proc, ...(opts.images.bins ? { bin: opts.images.bins.qsd } : {}) });

export interface CaseDir { dir: string; ensure(step: Step): Promise<void> }

const FUZZ_BY_FILE = new Map(FUZZ_IMAGES.map((im) => [im.file, im as { file: string; backing?: string }]));

/**
 * Every string in a command's arguments that may name an image file (values of filename-like keys;
 * drive-backup's `target` is a file name, and a `file:` prefix names the file after it, as
 * bdrv_find_protocol strips it).
 */
function fileNames(v: Json, out: string[] = [], key = ''): string[] {
  // an HMP line names its files inside the text (drive_add's file=, change's filename): every
  // word is a candidate, and only the fuzz images among them are copied (stop 42: a drive_add
  // found no image, the model opened it)
  if (typeof v === 'string' && key === 'command-line') out.push(...v.split(/[\s,="]+/).filter((w) => w !== ''));
  else if (typeof v === 'string') { if (/filename|file$|^base$|^top$|^target$/.test(key)) out.push(v.replace(/^file:/, '')); }
  else if (Array.isArray(v)) for (const x of v) fileNames(x, out, key);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) fileNames(x, out, k);
  return out;
}

const stepName = (s: Step | TranscriptStep) => (isWaitStep(s) ? `wait ${s.wait.job} ${s.wait.status}` : s.execute);

// the recorders' own image root (oracle/image-root.ts): QEMU's answers may depend on the file system
const tmpRoot = imageRoot;

/** Records `scenario` on fresh daemons; a daemon death is returned as a qemu-abort finding. */
export async function recordOnQsd(scenario: Scenario, opts: RunOptions, onStep?: (i: number, s: TranscriptStep) => void | Promise<void>): Promise<{ transcript?: Transcript; finding?: Finding; done: number }> {
  const cd = await opts.images.caseDir(scenario);
  const dir = cd.dir;
  // a copy that fails (a full /dev/shm) left the case directory behind: it was made, and this
  // ran, before the try whose finally releases it
  try {
    for (const st of scenario.steps) await cd.ensure(st);
  } catch (e) {
    await opts.images.release(dir);
    throw e;
  }
  let done = 0;
  try {
    // the transcript says what host its daemons ran on (the O_DIRECT alignment of the case dir)
    const transcript = await runScenario(onHostOf(scenario, opts.images.root), (proc) => (scenario.vm ? spawnVm(dir, scenario.vm, { label: proc, ...(opts.images.bins ? { bins: opts.images.bins } : {}) }) : spawnQsd(dir, qsdOpts(proc, opts))), {
      dir, waitTimeoutMs: opts.waitTimeoutMs ?? 5000, replyTimeoutMs: FUZZ_REPLY_TIMEOUT_MS,
      onStep: async (i, s) => { done = i + 1; await onStep?.(i, s); },
    });
    return { transcript, done };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const step = scenario.steps[done];
    // the exit handler's message, or the wire closing first when the daemon dies mid-reply
    const died = / died \(| died$| exited \(| closed the connection| hung: no reply/.test(msg);
    return {
      done,
      finding: { category: died ? 'qemu-abort' : 'harness', step: done, command: step ? stepName(step) : '-', message: msg.replace(dir, '.').slice(0, 600) },
    };
  } finally {
    opts.images.release(dir);
  }
}

/**
 * The first step where the model and QEMU disagree (outcome, then error text, then graph, then a
 * query's reply). oracle/compare.ts scores a reply as the step's graph (`reply …` lines) and an
 * HMP text as its error text (`hmp text: …`); a step whose graph and error text differ only there
 * is a `reply` finding, so the fuzzer counts and keys it apart from the graph itself.
 */
export function firstDisagreement(steps: StepComparison[], skip: ReadonlySet<number> = new Set()): Finding | undefined {
  for (const s of steps) {
    if ((s.outcome && s.errorText && s.graph) || skip.has(s.index)) continue;
    // the graph's own lines (compareGraphs: `node|parent|edge missing/extra`, or a graph on one side only)
    const graphItself = s.diff.some((d) => /^(node|edge|parent) |^graph:/.test(d));
    const hmpText = s.diff.some((d) => d.startsWith('hmp text:'));
    const category: Category = !s.outcome ? 'outcome'
      : !s.errorText && !hmpText ? 'error-text'
        : !s.graph && graphItself ? 'graph'
          : 'reply';
    const line = category === 'reply' ? (s.diff.find((d) => /^(reply|hmp text:) /.test(d)) ?? s.diff[0] ?? '')
      : s.diff.find((d) => (category === 'graph' ? /^(node|edge|parent) / : /^(outcome|error)/).test(d)) ?? s.diff[0] ?? '';
    return { category, step: s.index, command: s.what, message: line };
  }
  return undefined;
}

/** Runs a recorded transcript's scenario on the model; an exception that is not a BlockgraphError is exit 70. */
export async function checkModel(qsd: Transcript, skip?: ReadonlySet<number>): Promise<Finding | undefined> {
  let model: Transcript;
  try {
    // under the rules of the QEMU that recorded it (fuzz --qemu 10.0)
    model = await runOnModel(scenarioOf(qsd), undefined, { qemuVersion: transcriptVersion(qsd) });
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { category: isBlockgraphError(e) && e.code !== 'BG_MODEL_CRASH' ? 'harness' : 'model-crash', step: -1, command: '-', message: `model threw ${msg}`.slice(0, 600) };
  }
  return firstDisagreement(compareTranscripts(qsd, model).steps, skip);
}

/** A finding from one step compared across the two sides (outcome, then error text, then graph). */
function stepFinding(i: number, qsd: TranscriptStep, model: TranscriptStep): Finding | undefined {
  return firstDisagreement([compareSteps(i, qsd, model)]);
}

/** A model exception: a BlockgraphError is the harness's (bad input), anything else is exit 70. */
function modelThrew(e: unknown, i: number, step: Step): Finding {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { category: isBlockgraphError(e) && e.code !== 'BG_MODEL_CRASH' ? 'harness' : 'model-crash', step: i, command: stepName(step), message: `model threw ${msg}`.slice(0, 600) };
}

interface LockstepResult {
  qsd?: Transcript;
  /** Steps recorded on the daemon. */
  done: number;
  finding?: Finding;
  passed: Finding[];
  /** The daemon side stopped at a wait whose job went elsewhere (no finding, nothing compared after). */
  inconclusive?: string;
}

/**
 * Runs steps on fresh daemons and on the model in lockstep: each step goes to QSD, then to the
 * model, and the two recordings of it are compared at once (no prefix is ever replayed).
 * `next(i, prev)` gives step i (undefined ends the run); it sees QSD's recording of step i-1.
 * With `stopAtFinding` the run ends at the first disagreement that `isKnown` does not excuse;
 * without, the daemon side goes on to the end (a saved transcript holds every step) while the
 * model stops at the first disagreement.
 */
async function lockstep(
  scenario: Scenario,
  next: (i: number) => Step | undefined,
  opts: RunOptions,
  { stopAtFinding, isKnown, onRecorded }: { stopAtFinding: boolean; isKnown?: (f: Finding) => boolean; onRecorded?: (step: Step, out: TranscriptStep) => void },
): Promise<LockstepResult> {
  // the daemon's host facts (raw_probe_alignment in the case dir's file system) are the model's
  // input and go into a saved transcript: the scenario itself carries them
  Object.assign(scenario, onHostOf(scenario, opts.images.root));
  const cd = await opts.images.caseDir(scenario);
  const dir = cd.dir;
  const qsd = new ScenarioRecorder(scenario.name, (proc) => (scenario.vm ? spawnVm(dir, scenario.vm, { label: proc, ...(opts.images.bins ? { bins: opts.images.bins } : {}) }) : spawnQsd(dir, qsdOpts(proc, opts))), {
    dir, waitTimeoutMs: opts.waitTimeoutMs ?? 5000, replyTimeoutMs: FUZZ_REPLY_TIMEOUT_MS,
    // an i440fx's device_del waits for the guest (ACPI root-bus hotplug): settled when the device stays
    ...((scenario.vm?.machine === 'pc' && scenario.vm.acpi !== false) || scenario.vm?.['acpi-pci-hotplug'] === true ? { acpiPciHotplug: true } : {}),
    ...replyOptions(scenario),
  });
  let model: ScenarioRecorder | undefined;
  const steps: TranscriptStep[] = [];
  const passed: Finding[] = [];
  let finding: Finding | undefined;
  try {
    // under the rules of the QEMU the cases run on (fuzz --qemu 10.0)
    model = await modelRecorder(scenario, opts.modelBackend?.(), { qemuVersion: opts.images.bins?.version, ...replyOptions(scenario) });
    for (let i = 0; ; i++) {
      const step = next(i);
      if (!step) break;
      scenario.steps.push(step);
      let out: TranscriptStep;
      try {
        await cd.ensure(step);
        out = await qsd.record(i, step);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        // a job that failed instead of reaching the status a wait expects (a mirror whose target
        // QEMU finds unsuitable only in mirror_run): the daemon is fine, the case just ends here
        if (!finding && /did not (reach|settle)/.test(msg)) return { done: i, passed, inconclusive: msg.replace(dir, '.').slice(0, 300) };
        // a node whose driver QEMU dropped (qcow2_signal_corruption on a fatal corruption: bs->drv =
        // NULL, BLOCK_IMAGE_CORRUPTED fatal) fails query-named-block-nodes as a whole
        // (bdrv_block_device_info: "Block device %s is ejected"); the daemon is fine, but no graph
        // can be read from it any more and the model does not follow image corruption: the case
        // ends here, like a wait whose job went elsewhere (docs/fidelity.md, "Ejected nodes")
        if (!finding && /query-named-block-nodes failed: Block device .* is ejected/.test(msg)) return { done: i, passed, inconclusive: msg.replace(dir, '.').slice(0, 300) };
        // the exit handler's message, or the wire closing first when the daemon dies mid-reply
        const died = / died \(| died$| exited \(| closed the connection| hung: no reply/.test(msg);
        return { done: i, passed, finding: finding ?? { category: died ? 'qemu-abort' : 'harness', step: i, command: stepName(step), message: msg.replace(dir, '.').slice(0, 600) } };
      }
      steps.push(out);
      onRecorded?.(step, out);
      if (finding) continue;
      let f: Finding | undefined;
      try {
        f = stepFinding(i, out, await model.record(i, step));
      } catch (e) {
        f = modelThrew(e, i, step);
      }
      if (!f) continue;
      // both sides refused with different texts, or a query (read-only) answered differently: the
      // states still agree, the case goes on
      if ((f.category === 'error-text' || f.category === 'reply') && isKnown?.(f)) { passed.push(f); continue; }
      finding = f;
      if (stopAtFinding) break;
    }
  } finally {
    try {
      await qsd.close();
      await model?.close();
    } finally {
      // (a model whose close threw skipped the release: the directory stayed)
      opts.images.release(dir);
    }
  }
  return {
    qsd: {
      format: TRANSCRIPT_FORMAT, name: scenario.name, description: scenario.description, covers: scenario.covers, qemu: qsd.qemu, ...(scenario.host ? { host: scenario.host } : {}), images: scenario.images, ...(scenario.vm ? { vm: scenario.vm } : {}),
      ...(scenario['hmp-text'] === true ? { 'hmp-text': true as const } : {}), ...(scenario.replies === true ? { replies: true as const } : {}), steps,
    },
    done: steps.length, finding, passed,
  };
}

/**
 * The recorder options of a scenario's `replies` and `hmp-text`, the same for QEMU's side and the
 * model's: both sides' replies go through the one normaliser (ScenarioRecorder.record ->
 * oracle/replies.ts normalizeReply), as in `qmp record` and `qmp run`.
 */
function replyOptions(scenario: Scenario): { replies?: true; hmpText?: true } {
  return { ...(scenario.replies === true ? { replies: true as const } : {}), ...(scenario['hmp-text'] === true ? { hmpText: true as const } : {}) };
}

/** A fixed scenario: recorded on QSD and run on the model in lockstep; the first disagreement. */
export async function runFixed(scenario: Scenario, opts: RunOptions): Promise<{ qsd?: Transcript; finding?: Finding }> {
  const fixed = scenario.steps;
  const r = await lockstep({ ...scenario, steps: [] }, (i) => fixed[i], opts, { stopAtFinding: false });
  return { qsd: r.finding?.category === 'qemu-abort' || r.finding?.category === 'harness' ? undefined : r.qsd, finding: r.finding };
}

/**
 * Generates and runs one case of about `commands` commands from `seed`. With `isKnown`, a known
 * error-text disagreement does not end the case: both sides refused the command, and a refused
 * command leaves the state as it was, so the two still agree on everything else; nor does a known
 * reply disagreement (a query changes nothing).
 */
export async function runCase(seed: number, commands: number, opts: RunOptions, isKnown?: (f: Finding) => boolean): Promise<CaseOutcome> {
  const world = new World();
  const vm = opts.target === 'vm';
  const gen = vm ? new VmGenerator(new Rng(seed), world, opts.images.bins?.version ?? '7.2', opts.machine ?? 'q35') : new Generator(new Rng(seed), world);
  if (opts.images.bins && gen instanceof Generator) gen.qemu = opts.images.bins.version;
  const scenario: Scenario = {
    name: `fuzz-${seed}`, description: `blockgraph fuzz case, seed ${seed}`, covers: [vm ? 'fuzz-vm' : 'fuzz'],
    images: FUZZ_IMAGES.map((i) => ({ ...i })), ...(vm ? { vm: opts.machine === 'pc' ? FUZZ_VM_PC : FUZZ_VM } : {}),
    // the block queries' replies are compared (stop 41), and on the VM HMP's `info` texts too
    ...(vm ? { 'hmp-text': true as const } : {}), replies: true, steps: [],
  };
  let sent = 0;
  const next = (): Step | undefined => {
    // a queued follow-up (a wait) still runs once the command budget is spent
    if (sent >= commands && gen.queue.length === 0) return undefined;
    const s = gen.next();
    if (s && !isWaitStep(s)) sent++;
    return s;
  };
  const r = await lockstep(scenario, next, opts, {
    stopAtFinding: true, isKnown,
    onRecorded: (step, out) => { world.observe(step, out); gen.followUp(step, isWaitStep(out) || out.result.ok); },
  });
  const steps = scenario.steps.slice(0, r.finding ? r.finding.step + 1 : r.done + 1);
  return { scenario: { ...scenario, steps }, commands: sent, qsd: r.qsd, finding: r.finding, passed: r.passed, inconclusive: r.inconclusive };
}
