// `blockgraph qmp run`: a scenario or transcript replayed against the model, recorded
// through the same harness (and so the same normalization) as the real daemon.
import { BlockgraphError } from '../errors/index.js';
import type { QmpConnection } from '../commands/protocol.js';
import { MemoryBackend, ModelConnection, type ModelBackend } from '../commands/model-host.js';
import { ScenarioRecorder, runScenario, setupImages, type HarnessOptions } from './harness.js';
import type { Scenario, Transcript } from './format.js';

export const MODEL_VERSION = '7.2.22 (blockgraph model)';

export async function createModelImages(backend: ModelBackend, scenario: Scenario): Promise<void> {
  await setupImages(scenario, '.', async (image) => {
    const r = await backend.execute('A', 'x-blockgraph-image-create', image as unknown as Record<string, unknown>);
    if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `image ${image.file}: ${r.reply.error.desc}`);
  });
}

const modelOptions = (opts: HarnessOptions): HarnessOptions => ({
  qemu: MODEL_VERSION, waitTimeoutMs: 200, pollIntervalMs: 0, failOnWaitTimeout: false, ...opts,
  beforeWait: async (conn, job, status) => { await conn.execute('x-blockgraph-job-advance', { id: job, status }); },
});

/** The vm target: the machine of the scenario's `vm` member, built in one logged command. */
export async function createModelMachine(backend: ModelBackend, scenario: Scenario, proc = 'A'): Promise<void> {
  if (scenario.vm === undefined) return;
  const r = await backend.execute(proc, 'x-blockgraph-machine', scenario.vm as unknown as Record<string, unknown>);
  if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `vm: ${r.reply.error.desc}`);
}

export async function runOnModel(scenario: Scenario, backend: ModelBackend = new MemoryBackend(), opts: HarnessOptions = {}): Promise<Transcript> {
  await createModelImages(backend, scenario);
  await createModelMachine(backend, scenario);
  const open = async (proc: string): Promise<QmpConnection> => new ModelConnection(backend, proc);
  return runScenario(scenario, open, modelOptions(opts));
}

/** The model as a step-at-a-time recorder (the fuzzer runs it in lockstep with the daemon). */
export async function modelRecorder(scenario: Scenario, backend: ModelBackend = new MemoryBackend(), opts: HarnessOptions = {}): Promise<ScenarioRecorder> {
  await createModelImages(backend, scenario);
  await createModelMachine(backend, scenario);
  return new ScenarioRecorder(scenario.name, async (proc) => new ModelConnection(backend, proc), modelOptions(opts));
}
