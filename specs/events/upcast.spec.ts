import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CURRENT_VERSION, registerUpcaster, upcast } from '../../events/index.js';
import { emptyFold, foldRecord } from '../../replay/fold.js';
import type { LogRecord } from '../../store/types.js';

const rec = (over: Partial<LogRecord>): LogRecord => ({ seq: 1, stream: 'A', type: 'txn.begun', v: 1, at: 'x', txn: 't1', data: { op: 'o', args: {}, plan: [] }, prevHash: '', hash: 'h', ...over });

test('a record newer than this build is refused with BG_LOG_PROTOCOL, not misread', () => {
  try {
    foldRecord(emptyFold(), rec({ v: CURRENT_VERSION['txn.begun'] + 1 }));
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code: string }).code, 'BG_LOG_PROTOCOL');
    assert.match((e as Error).message, new RegExp(`version ${CURRENT_VERSION['txn.begun'] + 1}, newer`));
  }
});

test('current records pass through; unknown record types are audit-only', () => {
  const d = { op: 'o', args: {}, plan: [] };
  assert.is(upcast(rec({ data: d })), d, 'version 1 (older logs) lifts to 2 unchanged');
  assert.is(upcast(rec({ data: d, v: 2 })), d);
  const f = emptyFold();
  foldRecord(f, rec({ type: 'note.something', v: 9, data: 1 }));
  assert.is(f.seq, 1);
});

test('an upcaster lifts old data to the current version', () => {
  registerUpcaster('command.rejected', 0, (d) => ({ ...(d as object), error: { class: 'GenericError', desc: (d as { msg: string }).msg } }));
  const up = upcast(rec({ type: 'command.rejected', v: 0, data: { msg: 'boom' } })) as { error: { desc: string } };
  assert.is(up.error.desc, 'boom');
});

test('the package entry exports the main API', async () => {
  const api = await import('../../index.js');
  for (const name of ['Engine', 'EventLog', 'openClassic', 'openMemory', 'executeCommand', 'replay', 'verifyReplay', 'checkInvariants', 'transactionMachine', 'BlockgraphError', 'planReopen', 'MemoryBackend', 'serveQmp']) {
    assert.ok(name in api, name);
  }
});

test.run();
