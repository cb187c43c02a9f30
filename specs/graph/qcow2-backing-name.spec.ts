// Fuzz 347067830: where qcow2_update_header puts the backing file name (graph/qcow2-backing-name.ts),
// checked against images qemu-img 7.2 made (header.backing_file_offset read from the files; the
// same with qemu-img 10.0): a name past the end of the file child reads as zeroes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backingNameOffset } from '../../graph/qcow2-backing-name.js';

const img = { file: 'top.qcow2', format: 'qcow2', size: 16 << 20, backing: 'mid.qcow2', backingFormat: 'qcow2' };

test('v3, 64 KiB clusters, backing format: header 112 + format 16 + feature table 392 + end 8', () => {
  assert.is(backingNameOffset(img), 528);
});

test('v2 (compat 0.10): no feature table, header 72', () => {
  assert.is(backingNameOffset({ ...img, compat: '0.10' }), 96);
});

test('v3 with 4 KiB clusters: no feature table', () => {
  assert.is(backingNameOffset({ ...img, clusterSize: 4096 }), 136);
});

test('v3 with persistent bitmaps: the bitmaps extension (32) before the end marker', () => {
  assert.is(backingNameOffset({ ...img, bitmaps: [{ name: 'b1', granularity: 65536 } as never] }), 560);
});

test.run();
