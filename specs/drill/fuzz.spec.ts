// Fuzzing the engine on memory-level with fast-check: arbitrary and mutated QMP commands, and
// random plausible sequences. For every input: no exception but QMP refusals, a refusal leaves
// the state hash unchanged (but for the generated-name counter, which QEMU never rolls back), the invariants hold after every command, and replaying the log gives
// the live state byte for byte. FUZZ_RUNS scales it (npm run fuzz: 100000).
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import type { State } from '../../graph/types.js';
import { withoutIdCounters } from '../../graph/id-counter.js';
import { checkInvariants } from '../../graph/invariants.js';
import { replay } from '../../replay/replay.js';
import { listChooser, randomStep, WORKLOAD_IMAGES } from '../../replay/drill/workload.js';
import { openMemory } from '../../store/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 0) || 0;
const runs = (fast: number) => (RUNS ? Math.max(fast, Math.round(RUNS * fast / 1000)) : fast);
const ORACLE = TRANSCRIPTS_DIR;
const transcripts = readdirSync(ORACLE).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(ORACLE, f), 'utf8')) as { images: Record<string, unknown>[]; steps: { proc?: string; execute?: string; arguments?: Record<string, unknown> }[] });
const commands = transcripts.flatMap((t) => t.steps.filter((s) => s.execute).map((s) => ({ proc: s.proc ?? 'A', execute: s.execute!, arguments: s.arguments ?? {} })));


async function freshEngine() {
  const log = await openMemory();
  const e = await Engine.open(log, { clock: FIXED_CLOCK });
  for (const im of WORKLOAD_IMAGES) await e.execute('A', 'x-blockgraph-image-create', im as unknown as Record<string, unknown>);
  return { log, e };
}

/**
 * The state's hash without the processes' id counters: a refusal keeps only what util/id.c's
 * id_generate handed out to nodes it opened before failing (graph/id-counter.ts), never less.
 */
const hashBesidesIdCounters = (s: State): string => stateHash(withoutIdCounters(s));
const idCounters = (s: State) => Object.entries(s).map(([k, v]) => [k, (v?.meta?.proc as { autoName?: number } | undefined)?.autoName ?? 0] as const);

/** One command under the properties. */
async function step(e: Engine, proc: string, command: string, args: unknown): Promise<boolean> {
  const before = hashBesidesIdCounters(e.state);
  const countersBefore = new Map(idCounters(e.state));
  const r = await e.execute(proc, command, args as Record<string, unknown>); // anything thrown fails the property
  if ('error' in r.reply) {
    assert.type(r.reply.error.class, 'string');
    assert.is(hashBesidesIdCounters(e.state), before, `refused ${command} changed the state`);
    for (const [k, n] of idCounters(e.state)) assert.ok(n >= (countersBefore.get(k) ?? 0), `refused ${command} took back #block names`);
  }
  const inv = checkInvariants(e.state);
  assert.equal(inv, [], `${command} ${JSON.stringify(args)}`);
  return true;
}

async function replayEqualsLive(log: Awaited<ReturnType<typeof openMemory>>, e: Engine) {
  const f = await replay(log, { fromScratch: true });
  assert.is(JSON.stringify(f.state), JSON.stringify(e.state), 'replay equals the live state');
}

const name = fc.oneof(fc.constantFrom(...new Set(commands.map((c) => c.execute)), 'query-jobs', 'x-blockgraph-job-advance', 'qmp_capabilities'), fc.string());

test('arbitrary JSON as commands: only refusals, state untouched', async () => {
  const { log, e } = await freshEngine();
  await fc.assert(fc.asyncProperty(name, fc.jsonValue(), fc.constantFrom('A', 'B'), async (cmd, args, proc) => {
    const before = stateHash(e.state);
    await step(e, proc, cmd, args);
    if (typeof args !== 'object' || args === null || Array.isArray(args)) assert.is(stateHash(e.state), before);
  }), { numRuns: runs(1500), seed: 42 });
  await replayEqualsLive(log, e);
});

// Mutations of real commands: drop, retype or add a member, at the top or one level down.
const mutated = fc.tuple(fc.constantFrom(...commands), fc.nat(), fc.jsonValue(), fc.nat(3)).map(([c, k, v, how]) => {
  const args = structuredClone(c.arguments) as Record<string, unknown>;
  const keys = Object.keys(args);
  const key = keys[k % Math.max(1, keys.length)] ?? 'x';
  const inner = args[key];
  if (how === 0) delete args[key];
  else if (how === 1) args[key] = v;
  else if (how === 2 && inner && typeof inner === 'object' && !Array.isArray(inner)) {
    const ik = Object.keys(inner)[k % Math.max(1, Object.keys(inner).length)] ?? 'y';
    (inner as Record<string, unknown>)[ik] = v;
  } else args[`${key}-x`] = v;
  return { ...c, arguments: args };
});

test('mutated oracle commands after a prefix of random valid ones', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), { maxLength: 8 }), fc.array(mutated, { minLength: 1, maxLength: 4 }), async (prefix, muts) => {
    const { log, e } = await freshEngine();
    for (const xs of prefix) { const s = randomStep(listChooser(xs)); if (!(await step(e, s.proc, s.execute, s.arguments))) return; }
    for (const m of muts) if (!(await step(e, m.proc, m.execute, m.arguments))) return;
    await replayEqualsLive(log, e);
  }), { numRuns: runs(250), seed: 7 });
});

test('random plausible sequences: invariants after every command, replay equals live', async () => {
  let accepted = 0;
  let total = 0;
  await fc.assert(fc.asyncProperty(fc.array(fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 40 }), async (seq) => {
    const { log, e } = await freshEngine();
    for (const xs of seq) {
      const s = randomStep(listChooser(xs));
      const head = log.head;
      if (!(await step(e, s.proc, s.execute, s.arguments))) return;
      total++;
      if (log.head > head && !(await log.readAll({ gte: head + 1 })).some((r) => r.type === 'command.rejected')) accepted++;
    }
    await replayEqualsLive(log, e);
  }), { numRuns: runs(120), seed: 3 });
  assert.ok(accepted > total / 10, `the generator reaches accepted commands (${accepted}/${total})`);
  console.log(`  fuzz: ${total} generated commands, ${accepted} accepted`);
});

test.run();
