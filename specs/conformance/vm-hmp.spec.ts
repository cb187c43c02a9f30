// HMP lines through human-monitor-command on the vm target (commands/vm/hmp.ts; stop 38, the
// recorded proof is oracle/transcripts/vm/vm-k-hmp-*): the QMP command always succeeds, an HMP
// error is printed and leaves nothing behind, a line is parsed by its command's args_type.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand, type ExecResult } from '../../commands/model.js';

type State = ExecResult['state'];
const machine = (): State => {
  const m = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, 'scsi-controllers': [{ id: 'scsi0' }] });
  assert.equal(m.reply, { return: {} });
  let s = m.state;
  s = executeCommand(s, 'A', 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' }).state;
  const a = executeCommand(s, 'A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' } });
  assert.equal(a.reply, { return: {} });
  return a.state;
};
const hmp = (s: State, line: string) => executeCommand(s, 'A', 'human-monitor-command', { 'command-line': line });
const parents = (s: State) => executeCommand(s, 'A', 'query-block', {});

test('device_add by QemuOpts text plugs the disk; a refused one prints its error, succeeds and changes nothing', () => {
  const s = machine();
  const ok = hmp(s, 'device_add scsi-hd,id=sd0,drive=a,bus=scsi0.0');
  assert.equal(ok.reply, { return: '' });
  assert.equal((parents(ok.state).reply as { return: unknown[] }).return.length, 1);
  const bad = hmp(ok.state, 'device_add scsi-hd,id=sd1,drive=nosuch,bus=scsi0.0');
  assert.ok('return' in bad.reply);
  assert.match(String((bad.reply as { return: string }).return), /^Error: /);
  assert.equal(bad.state, ok.state);
});

test('unknown names, info and help are answered without effect; a malformed line is not run', () => {
  const s = machine();
  for (const line of ['no_such_command x', 'info block', 'help', 'drive_del', 'block_resize a 1M extra words']) {
    const r = hmp(s, line);
    assert.ok('return' in r.reply, line);
    assert.equal(r.state, s, line);
  }
  assert.equal(hmp(s, 'no_such_command').reply, { return: "unknown command: 'no_such_command'\r\n" });
});

test('drive_del of a node is blockdev-del; nbd_server_add -w exports it writable; commands not modelled are refused', () => {
  const s = machine();
  const d = hmp(s, 'drive_del a');
  const nodes = (st: State) => (executeCommand(st, 'A', 'query-named-block-nodes', {}).reply as { return: { 'node-name': string }[] }).return.map((n) => n['node-name']);
  assert.equal(nodes(d.state).includes('a'), false);
  const n = hmp(hmp(s, 'nbd_server_start unix:nbd.sock').state, 'nbd_server_add -w a aw');
  const exp = executeCommand(n.state, 'A', 'query-block-exports', {});
  assert.equal((exp.reply as { return: { id: string }[] }).return.map((x) => x.id), ['aw']);
  const migrate = hmp(s, 'migrate exec:cat');
  assert.ok('error' in migrate.reply);
});

test.run();
