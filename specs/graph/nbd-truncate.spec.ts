// block_resize of an NBD client node: nbd_co_truncate (block/nbd.c) refuses only a size past the one
// the handshake reported ("Cannot grow NBD nodes", exact=false); a smaller size succeeds and changes nothing (refresh_total_sectors takes nbd_getlength again).
// Live: oracle/transcripts/combo-c14-b2-resize-exported-with-client (7.2 and 10.0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand } from '../../commands/model.js';
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import type { State } from '../../graph/types.js';

for (const version of [undefined, '10.0']) {
  test(`${version ?? '7.2'}: an NBD client node cannot grow, and a shrink keeps its length`, () => {
    let state: State = {};
    const run = (proc: string, cmd: string, args: Record<string, unknown> = {}): string | null => {
      const r = executeCommand(state, proc, cmd, args);
      state = r.state;
      return 'error' in r.reply ? r.reply.error.desc : null;
    };
    const ok = (proc: string, cmd: string, args: Record<string, unknown> = {}) => assert.is(run(proc, cmd, args), null, `${proc} ${cmd}`);
    if (version) { ok('A', 'x-blockgraph-process-start', { qemu: version }); ok('B', 'x-blockgraph-process-start', { qemu: version }); }
    ok('A', 'x-blockgraph-image-create', { file: 'a.img', format: 'raw', size: '1M' });
    ok('A', 'blockdev-add', { driver: 'raw', 'node-name': 'a', file: { driver: 'file', 'node-name': 'a-f', filename: 'a.img' } });
    ok('A', 'nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
    ok('A', 'block-export-add', { type: 'nbd', id: 'e', 'node-name': 'a', writable: true });
    ok('B', 'blockdev-add', { driver: 'nbd', 'node-name': 'c', server: { type: 'unix', path: 'nbd.sock' }, export: 'a' });
    // the NBD export's BlockBackend does not share resize (nbd_export_create), so the server's
    // node keeps its length; the client's is the handshake's 1 MiB
    assert.match(run('A', 'block_resize', { 'node-name': 'a', size: 2097152 }) ?? '', /^Permission conflict on node 'a': permissions 'resize'/);
    assert.is(run('B', 'block_resize', { 'node-name': 'c', size: 2097152 }), 'Cannot grow NBD nodes');
    ok('B', 'block_resize', { 'node-name': 'c', size: 512 });
    assert.is(new Proc(new Draft(state), 'B').node('c')?.size, 1048576);
  });
}

test.run();
