// One fuzz case: a sequence generated live against qemu-storage-daemon (each command drawn over
// the graph QEMU reported after the previous one), then the same sequence run on the model, and
// the two transcripts compared with the oracle's measures.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBlockgraphError } from '../../errors/index.js';
import { compareTranscripts, type StepComparison } from '../compare.js';
import { TRANSCRIPT_FORMAT, isWaitStep, scenarioOf, type Scenario, type Step, type Transcript, type TranscriptStep } from '../format.js';
import { runScenario } from '../harness.js';
import { createImagesWithQemuImg, spawnQsd } from '../qsd.js';
import type { QemuBinaries } from '../qemu-bins.js';
import { runOnModel, transcriptVersion } from '../run-model.js';
import { FUZZ_IMAGES, Generator } from './grammar.js';
import { Rng } from './rng.js';
import { World } from './world.js';

export type Category = 'outcome' | 'error-text' | 'graph' | 'model-crash' | 'qemu-abort' | 'harness';

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
  /** Known error-text disagreements the case went on after (both sides refused: states still equal). */
  passed: Finding[];
}

/** Image files are made once per run with qemu-img/qemu-io and copied into each case's directory. */
export class ImageCache {
  private dir: string | undefined;
  /** The QEMU whose daemon, qemu-img and qemu-io the cases run (default: the system's 7.2). */
  constructor(readonly bins?: QemuBinaries) {}
  async prepare(): Promise<string> {
    if (!this.dir) {
      const dir = mkdtempSync(join(tmpdir(), 'bg-fuzz-img-'));
      await createImagesWithQemuImg({ name: 'images', description: '', covers: ['fuzz'], images: FUZZ_IMAGES, steps: [] }, dir, this.bins);
      this.dir = dir;
    }
    return this.dir;
  }
  async caseDir(scenario: Scenario): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'bg-fuzz-'));
    const same = scenario.images.length === FUZZ_IMAGES.length && scenario.images.every((im, i) => im.file === FUZZ_IMAGES[i]!.file);
    if (same) {
      const src = await this.prepare();
      for (const im of scenario.images) copyFileSync(join(src, im.file), join(dir, im.file));
    } else {
      await createImagesWithQemuImg(scenario, dir, this.bins);
    }
    return dir;
  }
  dispose(): void { if (this.dir) rmSync(this.dir, { recursive: true, force: true }); this.dir = undefined; }
}

export interface RunOptions { waitTimeoutMs?: number; images: ImageCache }

/** How often (in steps) a case runs its prefix on the model: each check replays the whole prefix. */
const CHECK_EVERY = 4;

const stepName = (s: Step | TranscriptStep) => (isWaitStep(s) ? `wait ${s.wait.job} ${s.wait.status}` : s.execute);

/** Records `scenario` on fresh daemons; a daemon death is returned as a qemu-abort finding. */
export async function recordOnQsd(scenario: Scenario, opts: RunOptions, onStep?: (i: number, s: TranscriptStep) => void | Promise<void>): Promise<{ transcript?: Transcript; finding?: Finding; done: number }> {
  const dir = await opts.images.caseDir(scenario);
  let done = 0;
  try {
    const transcript = await runScenario(scenario, (proc) => spawnQsd(dir, { label: proc, ...(opts.images.bins ? { bin: opts.images.bins.qsd } : {}) }), {
      dir, waitTimeoutMs: opts.waitTimeoutMs ?? 5000,
      onStep: async (i, s) => { done = i + 1; await onStep?.(i, s); },
    });
    return { transcript, done };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const step = scenario.steps[done];
    const died = / died \(/.test(msg);
    return {
      done,
      finding: { category: died ? 'qemu-abort' : 'harness', step: done, command: step ? stepName(step) : '-', message: msg.replace(dir, '.').slice(0, 600) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first step where the model and QEMU disagree (outcome, then error text, then graph). */
export function firstDisagreement(steps: StepComparison[], skip: ReadonlySet<number> = new Set()): Finding | undefined {
  for (const s of steps) {
    if ((s.outcome && s.errorText && s.graph) || skip.has(s.index)) continue;
    const category: Category = !s.outcome ? 'outcome' : !s.errorText ? 'error-text' : 'graph';
    const line = s.diff.find((d) => (category === 'graph' ? /^(node|edge|parent) / : /^(outcome|error)/).test(d)) ?? s.diff[0] ?? '';
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
    return { category: isBlockgraphError(e) ? 'harness' : 'model-crash', step: -1, command: '-', message: `model threw ${msg}`.slice(0, 600) };
  }
  return firstDisagreement(compareTranscripts(qsd, model).steps, skip);
}

/** A fixed scenario: recorded on QSD, run on the model, compared. */
export async function runFixed(scenario: Scenario, opts: RunOptions): Promise<{ qsd?: Transcript; finding?: Finding }> {
  const r = await recordOnQsd(scenario, opts);
  if (!r.transcript) return { finding: r.finding };
  return { qsd: r.transcript, finding: await checkModel(r.transcript) };
}

/**
 * Generates and runs one case of about `commands` commands from `seed`. With `isKnown`, a known
 * error-text disagreement does not end the case: both sides refused the command, and a refused
 * command leaves the state as it was, so the two still agree on everything else.
 */
export async function runCase(seed: number, commands: number, opts: RunOptions, isKnown?: (f: Finding) => boolean): Promise<CaseOutcome> {
  const world = new World();
  const gen = new Generator(new Rng(seed), world);
  const scenario: Scenario = {
    name: `fuzz-${seed}`, description: `blockgraph fuzz case, seed ${seed}`, covers: ['fuzz'],
    images: FUZZ_IMAGES.map((i) => ({ ...i })), steps: [],
  };
  let sent = 0;
  const push = () => {
    if (sent >= commands) return;
    const s = gen.next();
    if (!s) return;
    if (!isWaitStep(s)) sent++;
    scenario.steps.push(s);
  };
  push();
  const recorded: TranscriptStep[] = [];
  const passed: Finding[] = [];
  const skip = new Set<number>();
  let finding: Finding | undefined;
  const check = async () => {
    const t: Transcript = { format: TRANSCRIPT_FORMAT, name: scenario.name, description: '', covers: scenario.covers, qemu: '', images: scenario.images, steps: recorded };
    for (;;) {
      finding = await checkModel(t, skip);
      if (!(finding && finding.category === 'error-text' && isKnown?.(finding))) return;
      passed.push(finding);
      skip.add(finding.step);
    }
  };
  // runScenario walks scenario.steps with a live iterator: each step pushed here is run next.
  // The model runs the prefix every CHECK_EVERY steps (and at the end), so a case ends soon after
  // its first disagreement (the states differ from there on, later steps would only echo it);
  // the disagreement itself is located exactly, whatever step the check ran at.
  let checked = -1;
  const r = await recordOnQsd(scenario, opts, async (i, out) => {
    const step = scenario.steps[i]!;
    recorded.push(out);
    world.observe(step, out);
    gen.followUp(step, isWaitStep(out) || out.result.ok);
    if ((i + 1) % CHECK_EVERY === 0 || (sent >= commands && gen.queue.length === 0)) {
      checked = i;
      await check();
      if (finding) return;
    }
    push();
  });
  if (r.transcript && checked !== r.transcript.steps.length - 1) await check();
  if (!r.transcript) return { scenario: { ...scenario, steps: scenario.steps.slice(0, r.done + 1) }, commands: sent, finding: r.finding, passed };
  return { scenario, commands: sent, qsd: r.transcript, finding, passed };
}

