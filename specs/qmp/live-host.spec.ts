// A live server's host (cli/live-host.ts, `blockgraph qmp --run-jobs --image-dir`): jobs run by
// themselves as QEMU's do, and files that appear on the host are probed when named; both arrive
// in the log as commands, so a replay of the log rebuilds the same state without host or time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openMemory } from '../../store/index.js';
import { replay } from '../../replay/index.js';
import { LiveHost } from '../../cli/live-host.js';
import type { QmpEvent } from '../../commands/protocol.js';
import { stateDigest } from '../../graph/hash.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ok = (r: { reply: unknown }) => assert.not.ok('error' in (r.reply as object), JSON.stringify(r.reply));

async function chain(h: LiveHost): Promise<void> {
  ok(await h.execute('A', 'x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '1048576' }));
  ok(await h.execute('A', 'x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '1048576', backing: 'base.qcow2', 'backing-format': 'qcow2' }));
  ok(await h.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 't', file: { driver: 'file', filename: 'top.qcow2' } }));
}

const statusOf = (e: Engine, id: string) => (e.state.A?.jobs?.[id] as { status?: string } | undefined)?.status;

test('--run-jobs: a stream concludes and an active commit goes ready without a command; the log replays to the same state', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const events: QmpEvent[] = [];
  const h = new LiveHost(e, 'A', { runJobs: true, events: (evs) => events.push(...evs), settleMs: 1 });
  await chain(h);
  ok(await h.execute('A', 'block-stream', { 'job-id': 's', device: 't', 'auto-dismiss': false }));
  assert.is(statusOf(e, 's'), 'running');
  for (let i = 0; i < 100 && statusOf(e, 's') !== 'concluded'; i++) await sleep(5);
  // what QEMU's stream_run does once the reply is out: waiting, pending, BLOCK_JOB_COMPLETED, concluded
  assert.is(statusOf(e, 's'), 'concluded');
  assert.equal(events.map((x) => x.event === 'JOB_STATUS_CHANGE' ? (x.data as { status: string }).status : x.event), ['waiting', 'pending', 'BLOCK_JOB_COMPLETED', 'concluded']);
  ok(await h.execute('A', 'job-dismiss', { id: 's' }));
  // a mirror (here an active commit) goes ready and stays until job-complete
  ok(await h.execute('A', 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1048576', backing: 'top.qcow2', 'backing-format': 'qcow2' }));
  ok(await h.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' }, backing: 't' }));
  ok(await h.execute('A', 'block-commit', { 'job-id': 'c', device: 'a' }));
  for (let i = 0; i < 100 && statusOf(e, 'c') !== 'ready'; i++) await sleep(5);
  assert.is(statusOf(e, 'c'), 'ready');
  await sleep(20);
  assert.is(statusOf(e, 'c'), 'ready');
  h.close();
  // the moves are in the log as commands: the replay needs neither the timers nor the host
  const f = await replay(log, { fromScratch: true });
  assert.is(stateDigest(f.state), stateDigest(e.state));
});

test('--run-jobs: a paused job is left where it is until a command moves it', async () => {
  const e = await Engine.open(await openMemory());
  const h = new LiveHost(e, 'A', { runJobs: true, settleMs: 5 });
  await chain(h);
  ok(await h.execute('A', 'block-stream', { 'job-id': 's', device: 't', 'auto-dismiss': false }));
  ok(await h.execute('A', 'job-pause', { id: 's' }));
  await sleep(30);
  assert.is(statusOf(e, 's'), 'paused');
  // job-resume is a command: after it the job runs on by itself
  ok(await h.execute('A', 'job-resume', { id: 's' }));
  for (let i = 0; i < 100 && statusOf(e, 's') !== 'concluded'; i++) await sleep(5);
  assert.is(statusOf(e, 's'), 'concluded');
  h.close();
});

test('without --run-jobs nothing moves by itself (the oracle\'s wait steps drive jobs)', async () => {
  const e = await Engine.open(await openMemory());
  const h = new LiveHost(e, 'A', { settleMs: 1 });
  await chain(h);
  ok(await h.execute('A', 'block-stream', { 'job-id': 's', device: 't', 'auto-dismiss': false }));
  await sleep(30);
  assert.is(statusOf(e, 's'), 'running');
  h.close();
});

test('--image-dir: a file made on the host after the start is probed when a command names it, and recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-live-host-'));
  try {
    const log = await openMemory();
    const e = await Engine.open(log);
    const h = new LiveHost(e, 'A', { imageDir: dir });
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'b.qcow2'), '2M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'b.qcow2', '-F', 'qcow2', join(dir, 'snap1.qcow2'), '2M']);
    const r = await h.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 's', file: { driver: 'file', filename: 'snap1.qcow2' } });
    ok(r);
    const imgs = e.state['@host']?.images as Record<string, { format: string; size: number; backing?: string }>;
    assert.equal([imgs['b.qcow2']?.format, imgs['b.qcow2']?.size], ['qcow2', 2097152]);
    assert.equal([imgs['snap1.qcow2']?.format, imgs['snap1.qcow2']?.backing], ['qcow2', 'b.qcow2']);
    // a name the host lacks is left to the model, which refuses it as QEMU does
    const missing = await h.execute('A', 'blockdev-add', { driver: 'file', 'node-name': 'm', filename: 'nosuch.qcow2' });
    assert.match(JSON.stringify(missing.reply), /Could not open 'nosuch.qcow2'/);
    const f = await replay(log, { fromScratch: true });
    assert.is(stateDigest(f.state), stateDigest(e.state));
    h.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
