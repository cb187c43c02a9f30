// The virtual sizes `qemu-img create -f FMT x SIZE` gives (graph/other-formats.ts), as
// `qemu-img info --output=json` printed them for qemu-img 7.2.22: vpc's CHS geometry
// (vpc_co_create's calculate_geometry loop), whole sectors for the rest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { otherFormatOpenError, otherFormatVirtualSize } from '../../graph/other-formats.js';

const QEMU_IMG_INFO: [string, number, number][] = [
  ['vpc', 1 << 20, 1079296], ['vpc', 16 << 20, 16781312], ['vpc', 100 << 20, 104865792],
  ['vdi', 1 << 20, 1048576], ['vhdx', 16 << 20, 16777216], ['parallels', 100 << 20, 104857600],
  ['qcow', 1 << 20, 1048576], ['vmdk', 16 << 20, 16777216],
];

for (const [fmt, size, virtual] of QEMU_IMG_INFO) {
  test(`qemu-img create -f ${fmt} x ${size}: virtual size ${virtual}`, () => {
    assert.is(otherFormatVirtualSize(fmt, size), virtual);
  });
}

test('the open checks over a zeroed file and a qcow2 header, as QSD 7.2 answered (transcript fmt-other-formats)', () => {
  const zero = { file: 'z.raw', format: 'raw', size: 1 << 20 };
  const q = { file: 'q.qcow2', format: 'qcow2', size: 1 << 20 };
  assert.is(otherFormatOpenError('vdi', zero, 'z.raw'), 'Image not in VDI format (bad signature 00000000)');
  assert.is(otherFormatOpenError('vhdx', q, 'q.qcow2'), "Could not open 'q.qcow2': Invalid argument");
  assert.is(otherFormatOpenError('qcow', q, 'q.qcow2'), 'qcow (v1) does not support qcow version 3');
  assert.is(otherFormatOpenError('qcow', zero, 'z.raw'), 'Image not in qcow format');
  assert.is(otherFormatOpenError('vmdk', { file: 'v', format: 'vmdk', size: 1 }, 'v'), undefined);
  // vdi_open over a qcow2 header reads its disk_size (0x170) out of the feature name table
  // (graph/qcow2-header-bytes.ts; transcript fuzz-vdi-over-qcow2-header, fuzz 3845790059): "efcounts"
  // without a backing format extension, zeroes after one (then the signature, 0)
  assert.is(otherFormatOpenError('vdi', q, 'q.qcow2'), 'Unsupported VDI image size (size is 0x73746e756f636665, max supported is 0x1fffff8000000)');
  assert.is(otherFormatOpenError('vdi', { ...q, backing: 'b.qcow2', backingFormat: 'qcow2' }, 'q.qcow2'), 'Image not in VDI format (bad signature 00000000)');
  assert.is(otherFormatOpenError('vdi', { ...q, compat: '0.10' }, 'q.qcow2'), 'Image not in VDI format (bad signature 00000000)');
  // vpc_open looks for its "conectix" cookie, which a qemu-io pattern (one byte repeated) or any
  // other format's header cannot hold (transcript fuzz-vpc-over-other-formats-bytes)
  assert.is(otherFormatOpenError('vpc', { ...zero, fills: [[0, 1 << 20, 7]] as [number, number, number][] }, 'z.raw'), 'invalid VPC image');
  assert.is(otherFormatOpenError('vpc', q, 'q.qcow2'), 'invalid VPC image');
  assert.throws(() => otherFormatOpenError('vpc', undefined, 'x'));
});

test.run();
