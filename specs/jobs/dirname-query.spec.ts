// query-named-block-nodes' backing names (bdrv_block_device_info, bdrv_query_image_info): the
// header's name, and bdrv_get_full_backing_filename's absolute one, absent where bdrv_dirname
// fails (a qcow2 over quorum, checked on QSD 7.2.22).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand } from '../../commands/model.js';
import { M } from './helpers.js';

type Info = { 'node-name': string; backing_file?: string; image: Record<string, unknown> };
const query = (m: M): Info[] => {
  const r = executeCommand(m.state, 'A', 'query-named-block-nodes', {});
  return (r.reply as { return: Info[] }).return;
};
const backingOf = (i: Info) => Object.fromEntries(Object.entries(i.image).filter(([k]) => k.includes('backing') && k !== 'backing-image'));

test('full-backing-filename only where bdrv_dirname has a directory', () => {
  const m = new M();
  m.ok('x-blockgraph-image-create', { file: 'd/base.qcow2', format: 'qcow2', size: '16M' });
  m.ok('x-blockgraph-image-create', { file: 'd/top.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2' });
  m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'q', 'read-only': true, file: { driver: 'file', filename: 'd/top.qcow2' } });
  m.ok('blockdev-add', {
    driver: 'qcow2', 'node-name': 'q7', 'read-only': true, backing: null,
    file: { driver: 'quorum', 'vote-threshold': 1, children: [{ driver: 'file', filename: 'd/top.qcow2', 'read-only': true }] },
  });
  const infos = query(m);
  const q = infos.find((i) => i['node-name'] === 'q')!;
  const q7 = infos.find((i) => i['node-name'] === 'q7')!;
  assert.is(q.backing_file, 'd/base.qcow2');
  assert.equal(backingOf(q), { 'backing-filename': 'base.qcow2', 'full-backing-filename': 'd/base.qcow2', 'backing-filename-format': 'qcow2' });
  assert.is(q7.backing_file, undefined);
  assert.equal(backingOf(q7), { 'backing-filename': 'base.qcow2', 'backing-filename-format': 'qcow2' });
  // the open itself, with the header's backing: bdrv_open_backing_file's error as it is
  assert.is(
    m.run('blockdev-add', { driver: 'qcow2', 'node-name': 'q8', 'read-only': true, file: { driver: 'quorum', 'vote-threshold': 1, children: [{ driver: 'file', filename: 'd/top.qcow2', 'read-only': true }] } }),
    'Cannot generate a base directory for quorum nodes',
  );
});

test.run();
