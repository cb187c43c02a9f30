// Found by fuzzing (case 1100792543, 7.2 and 10.0): raw_co_block_status answers BDRV_BLOCK_RAW,
// and bdrv_co_block_status takes the status of the raw node's file instead. Over a protocol node
// that is data or zeroes (allocated); over an empty qcow2 node it is unallocated, so a stream
// whose bottom is raw over empty qcow2 has nothing to copy and reaches pending even at speed 1
// (no bytes dispatched, no rate-limit sleep). Recorded with `wait` steps on 7.2 and 10.0:
// oracle/transcripts/fuzz-stream-raw-over-qcow2-copies-nothing.json; here no wait step may
// advance the job.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

for (const v of ['7.2', '10.0'] as const) {
  test(`${v}: a speed-limited stream from raw over empty qcow2 finishes at once; over a file it keeps copying`, async () => {
    const m = new MemoryBackend();
    const run = async (c: string, a: Record<string, unknown>) => (await m.execute('A', c, a)).reply as { return?: unknown; error?: { desc: string } };
    const ok = async (c: string, a: Record<string, unknown>) => { const r = await run(c, a); assert.ok('return' in r, `${c}: ${JSON.stringify(r)}`); };
    if (v === '10.0') await ok('x-blockgraph-process-start', { qemu: v });
    for (const file of ['t1.qcow2', 't2.qcow2', 'e.qcow2']) await ok('x-blockgraph-image-create', { file, format: 'qcow2', size: '16M' });
    await ok('x-blockgraph-image-create', { file: 'r.raw', format: 'raw', size: '16M' });
    await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 't2.qcow2' } });
    await ok('blockdev-add', { driver: 'raw', 'node-name': 'n7', file: 'n2' });
    await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n14', file: { driver: 'file', filename: 't1.qcow2' }, backing: 'n7' });
    await ok('block-stream', { 'job-id': 'j15', device: 'n14', bottom: 'n7', speed: 1, 'auto-finalize': false });
    assert.is((await run('block-job-set-speed', { device: 'j15', speed: -1 })).error?.desc, "Job 'j15' in state 'pending' cannot accept command verb 'set-speed'");
    await ok('blockdev-add', { driver: 'raw', 'node-name': 'r7', file: { driver: 'file', filename: 'r.raw' } });
    await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: 'e.qcow2' }, backing: 'r7' });
    await ok('block-stream', { 'job-id': 'j9', device: 'n8', bottom: 'r7', speed: 1, 'auto-finalize': false });
    assert.is((await run('block-job-set-speed', { device: 'j9', speed: -1 })).error?.desc, "Parameter 'speed' expects a non-negative value");
  });
}

test.run();
