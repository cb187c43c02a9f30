// A daemon that never answers a command (QEMU 10.0 hangs for good in bdrv_append above a compress
// filter) must end the fuzz case as a finding, not stop the run: the recorder's replyTimeoutMs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Subject } from 'rxjs';
import { ScenarioRecorder } from '../../oracle/harness.js';
import type { QmpConnection, QmpEvent, QmpReply } from '../../commands/protocol.js';

function fakeDaemon(hangOn: string): QmpConnection & { closed: boolean } {
  const conn = {
    closed: false,
    events$: new Subject<QmpEvent>(),
    execute(command: string): Promise<QmpReply> {
      if (command === hangOn) return new Promise<QmpReply>(() => undefined);
      if (command === 'query-version') return Promise.resolve({ return: { qemu: { major: 10, minor: 0, micro: 2 }, package: '' } } as QmpReply);
      return Promise.resolve({ return: {} } as QmpReply);
    },
    async close() { conn.closed = true; },
  };
  return conn;
}

test('a command without a reply within replyTimeoutMs fails the step with "hung: no reply"', async () => {
  const d = fakeDaemon('blockdev-snapshot');
  const rec = new ScenarioRecorder('hang', async () => d, { replyTimeoutMs: 20, qemu: '10.0.2' });
  let err: unknown;
  try { await rec.record(0, { execute: 'blockdev-snapshot', arguments: { node: 'cmp', overlay: 'o1' } }); } catch (e) { err = e; }
  assert.ok(err instanceof Error);
  assert.match((err as Error).message, /hang step 0: the QEMU process A hung: no reply to 'blockdev-snapshot' within 20 ms/);
  await rec.close();
  assert.ok(d.closed);
});

test('a daemon that answers the step and then hangs (a bottom half the command scheduled) fails the step too', async () => {
  // fuzz seed 2026120801: 7.2 answered, then spun in bdrv_cor_filter_drop; the recorder's own
  // graph query after the step waited for ever and the whole run stopped
  const d = fakeDaemon('x-debug-query-block-graph');
  const rec = new ScenarioRecorder('late', async () => d, { replyTimeoutMs: 20, qemu: '10.0.2' });
  let err: unknown;
  try { await rec.record(0, { execute: 'job-finalize', arguments: { id: 'j0' } }); } catch (e) { err = e; }
  assert.ok(err instanceof Error);
  assert.match((err as Error).message, /late step 0: the QEMU process A hung: no reply to 'x-debug-query-block-graph' within 20 ms/);
  await rec.close();
  assert.ok(d.closed);
});

test('without replyTimeoutMs a reply is awaited as before', async () => {
  const d = fakeDaemon('never-sent');
  const rec = new ScenarioRecorder('ok', async () => d, { qemu: '10.0.2' });
  const s = await rec.record(0, { execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io0' } }).catch((e: Error) => e);
  assert.not.match(String((s as Error).message ?? ''), /hung/);
  await rec.close();
});

test.run();
