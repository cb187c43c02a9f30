// `blockgraph qmp run`: a scenario or transcript replayed against the model, recorded
// through the same harness (and so the same normalization) as the real daemon.
import { BlockgraphError } from '../errors/index.js';
import type { QmpConnection } from '../commands/protocol.js';
import { MemoryBackend, ModelConnection, type ModelBackend } from '../commands/model-host.js';
import { ScenarioRecorder, runScenario, setupImages, transcriptOf, type HarnessOptions } from './harness.js';
import { startRefusedStep } from './start-refused.js';
import type { Scenario, Transcript } from './format.js';
import { DEFAULT_QEMU, parseQemuVersion, QEMU_RELEASE, type QemuVersion } from '../graph/version.js';

export const MODEL_VERSION = '7.2.22 (blockgraph model)';
/** The `qemu` member of a transcript run on the model under `v`'s rules. */
export const modelVersion = (v: QemuVersion): string => {
  const r = QEMU_RELEASE[v];
  return `${r.major}.${r.minor}.${r.micro} (blockgraph model)`;
};

/** The QEMU version a transcript was recorded on (its `qemu` member); 7.2 when it does not say. */
export const transcriptVersion = (t: { qemu?: string }): QemuVersion => parseQemuVersion(t.qemu) ?? DEFAULT_QEMU;

/**
 * Declares `v` on every process the scenario uses, before anything else runs there (a
 * process's version is its first command, x-blockgraph-process-start). 7.2 is the default
 * and declares nothing, so 7.2 runs log exactly what they always did.
 */
export async function declareVersion(backend: ModelBackend, scenario: Scenario, v: QemuVersion): Promise<void> {
  if (v === DEFAULT_QEMU) return;
  const procs = new Set<string>(scenario.steps.map((s) => s.proc ?? 'A'));
  for (const proc of [...procs].sort()) {
    const r = await backend.execute(proc, 'x-blockgraph-process-start', { qemu: v });
    if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `process ${proc}: ${r.reply.error.desc}`);
  }
}

/**
 * The scenario's host facts (its `host` member: the O_DIRECT alignment of the directory it was
 * recorded in) as the model's input, one logged command before the images. None declared:
 * nothing is logged and the model's defaults hold (graph/host-facts.ts).
 */
export async function declareHost(backend: ModelBackend, scenario: Scenario): Promise<void> {
  if (scenario.host === undefined || Object.keys(scenario.host).length === 0) return;
  const r = await backend.execute('A', 'x-blockgraph-host', scenario.host as unknown as Record<string, unknown>);
  if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `host: ${r.reply.error.desc}`);
}

export async function createModelImages(backend: ModelBackend, scenario: Scenario): Promise<void> {
  await setupImages(scenario, '.', async (image) => {
    const r = await backend.execute('A', 'x-blockgraph-image-create', image as unknown as Record<string, unknown>);
    if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `image ${image.file}: ${r.reply.error.desc}`);
  });
}

type ModelOptions = HarnessOptions & { qemuVersion?: QemuVersion };

const modelOptions = ({ qemuVersion = DEFAULT_QEMU, ...opts }: ModelOptions): HarnessOptions => ({
  qemu: modelVersion(qemuVersion), waitTimeoutMs: 200, pollIntervalMs: 0, failOnWaitTimeout: false, ...opts,
  beforeWait: async (conn, job, status) => { await conn.execute('x-blockgraph-job-advance', { id: job, status }); },
  beforeStartSettle: async (conn, job) => { await conn.execute('x-blockgraph-job-advance', { id: job, status: 'null', start: true }); },
  startSettleMs: 0,
});

/** A machine the model refused as QEMU refuses it at start-up: its exit status and stderr. */
export interface MachineRefusal { exitCode: number; stderr: string }

/**
 * The vm target: the machine of the scenario's `vm` member, built in one logged command. A
 * command line QEMU would refuse (commands/vm/machine-start-error.ts: class `exit N`) is returned;
 * anything else the model cannot build is bad input.
 */
export async function createModelMachine(backend: ModelBackend, scenario: Scenario, proc = 'A'): Promise<MachineRefusal | undefined> {
  if (scenario.vm === undefined) return undefined;
  const r = await backend.execute(proc, 'x-blockgraph-machine', scenario.vm as unknown as Record<string, unknown>);
  if (!('error' in r.reply)) return undefined;
  const exit = /^exit (\d+)$/.exec(r.reply.error.class);
  if (exit) return { exitCode: Number(exit[1]), stderr: r.reply.error.desc };
  throw new BlockgraphError('BG_BAD_INPUT', `vm: ${r.reply.error.desc}`);
}

/** createModelMachine where a refused machine cannot be recorded (a step-at-a-time recorder). */
async function requireModelMachine(backend: ModelBackend, scenario: Scenario): Promise<void> {
  const refused = await createModelMachine(backend, scenario);
  if (refused) throw new BlockgraphError('BG_BAD_INPUT', `vm: ${refused.stderr}`);
}

export async function runOnModel(scenario: Scenario, backend: ModelBackend = new MemoryBackend(), opts: ModelOptions = {}): Promise<Transcript> {
  await declareVersion(backend, scenario, opts.qemuVersion ?? DEFAULT_QEMU);
  await declareHost(backend, scenario);
  await createModelImages(backend, scenario);
  const refused = await createModelMachine(backend, scenario);
  if (refused) {
    // the machine QEMU would not start: the first step records the refusal, as the recorder
    // writes QEMU's (oracle/start-refused.ts), and nothing after it runs
    const first = scenario.steps[0];
    if (!first || !('execute' in first)) throw new BlockgraphError('BG_BAD_INPUT', `vm: ${refused.stderr}`);
    return transcriptOf(scenario, modelVersion(opts.qemuVersion ?? DEFAULT_QEMU),
      [startRefusedStep({ proc: first.proc, execute: first.execute, arguments: first.arguments }, refused.exitCode, refused.stderr)]);
  }
  const open = async (proc: string): Promise<QmpConnection> => new ModelConnection(backend, proc);
  return runScenario(scenario, open, modelOptions(opts));
}

/**
 * The model as a step-at-a-time recorder (the fuzzer runs it in lockstep with the daemon). Its
 * steps are not known yet, so the version is declared on every process in `procs`.
 */
export async function modelRecorder(scenario: Scenario, backend: ModelBackend = new MemoryBackend(), opts: ModelOptions & { procs?: string[] } = {}): Promise<ScenarioRecorder> {
  const { procs = ['A', 'B'], ...mopts } = opts;
  await declareVersion(backend, { ...scenario, steps: procs.map((proc) => ({ proc, execute: 'query-version' })) }, mopts.qemuVersion ?? DEFAULT_QEMU);
  await declareHost(backend, scenario);
  await createModelImages(backend, scenario);
  await requireModelMachine(backend, scenario);
  return new ScenarioRecorder(scenario.name, async (proc) => new ModelConnection(backend, proc), modelOptions(mopts));
}
