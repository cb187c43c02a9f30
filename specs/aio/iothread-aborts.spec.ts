// Issue 12 root cause 8: where QEMU 7.2 aborts attaching or dropping children across
// iothreads (each form below was run on qemu-storage-daemon 7.2 and killed it with
// qemu_mutex_unlock_impl: Operation not permitted), the model refuses with the reason and
// leaves the state as it was. The neighbours QEMU survives are recorded transcripts
// (aio-attach-iothread-neighbours, aio-reopen-iothread-neighbours, aio-add-file-pinned-perm).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { M } from '../jobs/helpers.js';

const ABORT = /\(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted\)/;

function setup(names: string[]): M {
  const m = new M();
  m.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  m.ok('object-add', { 'qom-type': 'iothread', id: 'io1' });
  for (const n of names) {
    m.ok('x-blockgraph-image-create', { file: `${n}.qcow2`, format: 'qcow2', size: '1M' });
    m.ok('blockdev-add', { driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: `${n}.qcow2`, 'node-name': `${n}f` }, backing: null });
  }
  return m;
}
const mv = (m: M, n: string, io: string) => m.ok('x-blockdev-set-iothread', { 'node-name': n, iothread: io });
const q = (n: string, o: Record<string, unknown>) => ({ driver: 'qcow2', 'node-name': n, file: `${n}f`, ...o });

/** The state without the generated-name counter, which a refused command keeps (QEMU's id_generate never rolls back). */
function graphHash(s: M['state']): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    const meta = (v.meta ?? {}) as Record<string, Record<string, unknown>>;
    out[k] = k.startsWith('@') || !meta.proc ? v : { ...v, meta: { ...meta, proc: { ...meta.proc, autoName: 0 } } };
  }
  return stateHash(out as M['state']);
}

function refused(m: M, cmd: string, args: Record<string, unknown>): string {
  const h = graphHash(m.state);
  const err = m.run(cmd, args);
  assert.ok(err !== null, `${cmd} should be refused`);
  assert.match(err!, ABORT);
  assert.is(graphHash(m.state), h, 'state untouched');
  return err!;
}

test('blockdev-add with a backing reference moved to an iothread (movable): refused', () => {
  const m = setup(['c']);
  mv(m, 'c', 'io0');
  m.ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  refused(m, 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' }, backing: 'c' });
});

test('blockdev-add with a file reference pinned by a fixed export: refused read-only, permission error read-write', () => {
  const m = setup([]);
  m.ok('x-blockgraph-image-create', { file: 'c.qcow2', format: 'qcow2', size: '1M' });
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-A.sock' } } });
  m.ok('blockdev-add', { driver: 'file', 'node-name': 'cf', filename: 'c.qcow2' });
  m.ok('block-export-add', { type: 'nbd', id: 'e', 'node-name': 'cf', iothread: 'io0', 'fixed-iothread': true });
  assert.match(m.run('blockdev-add', { driver: 'qcow2', 'node-name': 'c', file: 'cf', backing: null })!, /^Permission conflict on node 'cf'/);
  refused(m, 'blockdev-add', { driver: 'qcow2', 'node-name': 'c', file: 'cf', backing: null, 'read-only': true });
});

test('reopen: a main-loop parent taking a movable backing from io0: refused', () => {
  const m = setup(['a', 'c']);
  mv(m, 'c', 'io0');
  refused(m, 'blockdev-reopen', { options: [q('a', { backing: 'c' })] });
});

test('reopen: [a backing c, b backing c] with a and b in different iothreads: refused', () => {
  const m = setup(['a', 'b', 'c']);
  mv(m, 'a', 'io0');
  mv(m, 'b', 'io1');
  refused(m, 'blockdev-reopen', { options: [q('a', { backing: 'c' }), q('b', { backing: 'c' })] });
});

test('reopen: dropping an inline child that would be closed in an iothread: refused; a monitor-owned one is fine', () => {
  const m = setup(['a']);
  mv(m, 'a', 'io0');
  m.ok('x-blockgraph-image-create', { file: 'f.qcow2', format: 'qcow2', size: '1M' });
  m.ok('blockdev-add', { driver: 'file', 'node-name': 'ff', filename: 'f.qcow2' });
  mv(m, 'ff', 'io0');
  refused(m, 'blockdev-reopen', { options: [q('a', { file: 'ff' })] });
  // the same parent and a new backing in its own iothread: QEMU survives
  const n = setup(['a', 'c']);
  mv(n, 'a', 'io0');
  mv(n, 'c', 'io0');
  n.ok('blockdev-reopen', { options: [q('a', { backing: 'c' })] });
  n.ok('blockdev-reopen', { options: [q('a', { backing: null })] });
});

test.run();
