// The qed header bdrv_qed_co_create writes and the file length qed_alloc_clusters leaves
// (graph/qed.ts), compared byte for byte with what `qemu-img create -f qed` (and qemu-io's
// writes) made: the first 64 bytes plus the backing file name, and the file's length, as
// `head -c N FILE | xxd -p` and `stat -c %s` printed them for qemu-img 7.2.22 and 10.0.2
// (identical on both), each case's `cmd` run in one directory holding base.img (a 1M raw image).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createImage } from '../../graph/images.js';
import { qedFileSize, qedHeaderBytes, qedOpenError } from '../../graph/qed.js';
import type { Image } from '../../graph/types.js';

const QEMU_IMG: Record<string, { cmd: string; length: number; header: string }> = {
  a: { cmd: 'qemu-img create -f qed a.qed 1M', length: 327680, header: '51454400000001000400000001000000000000000000000000000000000000000000000000000000000001000000000000001000000000000000000000000000' },
  b: { cmd: 'qemu-img create -f qed -o cluster_size=4096,table_size=1 b.qed 4M', length: 8192, header: '51454400001000000100000001000000000000000000000000000000000000000000000000000000001000000000000000004000000000000000000000000000' },
  mid: { cmd: 'qemu-img create -f qed -b base.img -F raw mid.qed 1M', length: 327680, header: '51454400000001000400000001000000050000000000000000000000000000000000000000000000000001000000000000001000000000004000000008000000626173652e696d67' },
  top: { cmd: 'qemu-img create -f qed -b mid.qed -F qed top.qed 1M', length: 327680, header: '514544000000010004000000010000000100000000000000000000000000000000000000000000000000010000000000000010000000000040000000070000006d69642e716564' },
  c: { cmd: 'qemu-img create -f qed -o cluster_size=1048576 -b base.img -F raw c.qed 1M', length: 5242880, header: '51454400000010000400000001000000050000000000000000000000000000000000000000000000000010000000000000001000000000004000000008000000626173652e696d67' },
  d: { cmd: 'qemu-img create -f qed -o table_size=16,cluster_size=4096 d.qed 3M', length: 69632, header: '51454400001000001000000001000000000000000000000000000000000000000000000000000000001000000000000000003000000000000000000000000000' },
  e: { cmd: "qemu-img create -f qed e.qed 10M; qemu-io -f qed -c 'write -P 90 0 10485760' e.qed", length: 11075584, header: '5145440000000100040000000100000000000000000000000000000000000000000000000000000000000100000000000000a000000000000000000000000000' },
  f: { cmd: "qemu-img create -f qed f.qed 2M; qemu-io -f qed -c 'write -P 42 0 65536' f.qed", length: 655360, header: '51454400000001000400000001000000000000000000000000000000000000000000000000000000000001000000000000002000000000000000000000000000' },
  g: { cmd: "qemu-img create -f qed -o cluster_size=4096 g.qed 64M; qemu-io -f qed -c 'write -P 1 1048576 1048576' -c 'write -P 2 0 4096' g.qed", length: 1089536, header: '51454400001000000400000001000000000000000000000000000000000000000000000000000000001000000000000000000004000000000000000000000000' },
};

const CASES: [string, Parameters<typeof qedHeaderBytes>[0], Image][] = [
  ['a', { size: 1 << 20 }, { file: 'a.qed', format: 'qed', size: 1 << 20 } as Image],
  ['b', { size: 4 << 20, clusterSize: 4096, tableSize: 1 }, { file: 'b.qed', format: 'qed', size: 4 << 20, clusterSize: 4096, tableSize: 1 } as Image],
  ['mid', { size: 1 << 20, backing: 'base.img', backingFormat: 'raw' }, { file: 'mid.qed', format: 'qed', size: 1 << 20, backing: 'base.img', backingFormat: 'raw' } as Image],
  ['top', { size: 1 << 20, backing: 'mid.qed', backingFormat: 'qed' }, { file: 'top.qed', format: 'qed', size: 1 << 20, backing: 'mid.qed' } as Image],
  ['c', { size: 1 << 20, clusterSize: 1 << 20, backing: 'base.img', backingFormat: 'raw' }, { file: 'c.qed', format: 'qed', size: 1 << 20, clusterSize: 1 << 20, backing: 'base.img', backingFormat: 'raw' } as Image],
  ['d', { size: 3 << 20, clusterSize: 4096, tableSize: 16 }, { file: 'd.qed', format: 'qed', size: 3 << 20, clusterSize: 4096, tableSize: 16 } as Image],
  ['e', { size: 10 << 20 }, { file: 'e.qed', format: 'qed', size: 10 << 20, data: [[0, 10 << 20]] } as Image],
  ['f', { size: 2 << 20 }, { file: 'f.qed', format: 'qed', size: 2 << 20, data: [[0, 65536]] } as Image],
  ['g', { size: 64 << 20, clusterSize: 4096 }, { file: 'g.qed', format: 'qed', size: 64 << 20, clusterSize: 4096, data: [[0, 4096], [1 << 20, 2 << 20]] } as Image],
];

for (const [k, hdr, img] of CASES) {
  test(`${QEMU_IMG[k]!.cmd}: header bytes`, () => {
    assert.is(qedHeaderBytes(hdr).toString('hex'), QEMU_IMG[k]!.header);
  });
  test(`${QEMU_IMG[k]!.cmd}: file length`, () => {
    assert.is(qedFileSize(img), QEMU_IMG[k]!.length);
  });
}

test('the header fields the catalogue keeps are what the bytes say: NO_PROBE only for a raw backing', () => {
  const buf = Buffer.from(QEMU_IMG.top!.header, 'hex');
  assert.is(buf.readBigUInt64LE(16), 1n); // QED_F_BACKING_FILE, no QED_F_BACKING_FORMAT_NO_PROBE
  assert.is(Buffer.from(QEMU_IMG.mid!.header, 'hex').readBigUInt64LE(16), 5n);
});

test('bdrv_qed_do_open on those images: table_size 1 never opens (qed_check_table_offset), the rest do', () => {
  for (const [k, , img] of CASES) assert.is(qedOpenError(img), k === 'b' ? 'QED table offset is invalid' : undefined, k);
});

test('createImage keeps a qed backing format only where qemu-img sets QED_F_BACKING_FORMAT_NO_PROBE', () => {
  const store = new Map<string, unknown>();
  const d = { get: (_h: string, _t: string, k: string) => store.get(k), put: (_h: string, _t: string, k: string, v: unknown) => store.set(k, v) } as never;
  createImage(d, { file: 'base.img', format: 'raw', size: '1M' });
  const mid = createImage(d, { file: 'mid.qed', format: 'qed', size: '1M', backing: 'base.img', 'backing-format': 'raw' });
  const top = createImage(d, { file: 'top.qed', format: 'qed', size: '1M', backing: 'mid.qed', 'backing-format': 'qed', options: 'cluster_size=4096,table_size=2' });
  assert.is(mid.backingFormat, 'raw');
  assert.is(top.backingFormat, undefined);
  assert.is(top.clusterSize, 4096);
  assert.is(top.tableSize, 2);
});

test.run();
