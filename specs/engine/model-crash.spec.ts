// An exception inside the model (a bug, not a refusal of QEMU's) must not reach the log: the
// engine decides on a Draft before it writes, so the command is refused with a ModelCrashError
// that names it, the state and the log stay as they were, and the next command runs as usual.
// Over QMP the client gets a GenericError saying so (not "could not be logged").
import { Readable, Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from '../../commands/registry.js';
import type { CommandDef } from '../../commands/types.js';
import { Engine } from '../../engine/engine.js';
import { BlockgraphError, ModelCrashError } from '../../errors/index.js';
import { stateHash } from '../../graph/hash.js';
import { serveQmp } from '../../qmp/server.js';
import { replay } from '../../replay/replay.js';
import { openMemory } from '../../store/index.js';
import { CHAIN } from './helpers.js';

/** Runs `fn` with blockdev-add's run doing its work and then throwing a TypeError (a model bug after changes were made). */
async function withCrashingAdd<T>(fn: () => Promise<T>): Promise<T> {
  const def = COMMANDS.get('blockdev-add')!;
  const broken: CommandDef = {
    ...def,
    run(ctx) {
      def.run(ctx);
      return (undefined as unknown as { name: string }).name as never;
    },
  };
  COMMANDS.set('blockdev-add', broken);
  try {
    return await fn();
  } finally {
    COMMANDS.set('blockdev-add', def);
  }
}

test('a model exception refuses the command with BG_MODEL_CRASH; state and log unchanged; the engine goes on', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (const [c, a] of CHAIN) await e.execute('A', c, a as never);
  const head = log.head;
  const before = stateHash(e.state);
  const err = await withCrashingAdd(() => e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'n0' }).then(() => undefined, (x: unknown) => x));
  assert.instance(err, ModelCrashError);
  assert.instance(err, BlockgraphError);
  assert.is((err as ModelCrashError).code, 'BG_MODEL_CRASH');
  assert.match((err as Error).message, /internal error in the model running 'blockdev-add' \(not applied, the log is unchanged\): TypeError: Cannot read properties of undefined/);
  assert.is(log.head, head, 'nothing logged, not even a command.rejected');
  assert.is(stateHash(e.state), before, 'the node the command had opened is not in the state');
  // the engine is not stopped: the same command runs and is logged
  const r = await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'n0' });
  assert.ok('return' in r.reply);
  assert.ok(log.head > head);
  assert.is(stateHash((await replay(log)).state), stateHash(e.state), 'the log replays to the engine state');
  await log.close();
});

test('over QMP: a model exception is a GenericError naming it, and the session goes on', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  let text = '';
  const out = new Writable({ write(chunk, _enc, cb) { text += chunk; cb(); } });
  const lines = [
    { execute: 'qmp_capabilities', id: 0 },
    { execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n0' }, id: 1 },
    { execute: 'query-named-block-nodes', id: 2 },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n';
  await withCrashingAdd(() => serveQmp(e, Readable.from([Buffer.from(lines)]), out, { reject: (p, d) => e.reject(p, d) }));
  const replies = text.split('\r\n').filter(Boolean).slice(1).map((l) => JSON.parse(l)).filter((m) => !('event' in m));
  assert.equal(replies.map((m) => m.id), [0, 1, 2]);
  assert.is(replies[1].error.class, 'GenericError');
  assert.match(replies[1].error.desc, /^blockgraph: internal error in the model running 'blockdev-add' \(not applied, the log is unchanged\): TypeError/);
  assert.equal(replies[2].return, [], 'nothing of the crashed command in the graph');
  assert.is(log.head, 0, 'nothing logged');
  await log.close();
});

// fuzz seed 2026120237, case 3178972124 (oracle/transcripts/fuzz-backup-top-cbw-backing.json):
// the model threw a TypeError here (a copy-before-write node opened from a json: file name
// without a file child); QEMU 7.2 refuses it in cbw_parse_options
test('drive-backup sync top over a backup filter whose child is a quorum: refused as QEMU does, no crash', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const run = async (c: string, a: Record<string, unknown>) => (await e.execute('A', c, a)).reply;
  await run('x-blockgraph-image-create', { file: 't1.qcow2', format: 'qcow2', size: '16M' });
  await run('blockdev-add', { driver: 'quorum', 'node-name': 'x10', children: [{ driver: 'null-co', 'read-zeroes': true }, { driver: 'null-co', 'read-zeroes': true }], 'vote-threshold': 2 });
  await run('blockdev-add', { driver: 'qcow2', 'node-name': 'n11', file: { driver: 'file', filename: 't1.qcow2' }, backing: 'x10' });
  assert.ok('return' in await run('drive-backup', { 'job-id': 'd16', device: 'x10', sync: 'none', target: 'db17.qcow2', format: 'qcow2', speed: 1, 'auto-finalize': false, 'auto-dismiss': true }));
  const r = await run('drive-backup', { 'job-id': 'd18', device: 'n11', sync: 'top', target: 'db19.qcow2', format: 'qcow2', 'auto-finalize': false, 'auto-dismiss': true });
  assert.equal(r, { error: { class: 'GenericError', desc: "Parameter 'file' is missing" } });
  await log.close();
});

test.run();
