// What the model knows of a fresh header's bytes (graph/header-bytes.ts), against values worked out
// by hand from the C sources and against the recordings (combo-c11, stop 40).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { headerWord, vmdkGrainOffset } from '../../graph/header-bytes.js';
import { readOnlyFormatOpenError } from '../../graph/read-only-formats.js';

test('vmdk_init_extent grain_offset: 128 sectors for small images (recorded: vdi over a 2 MiB vmdk, "bad signature 00000080"), more for big ones', () => {
  assert.is(vmdkGrainOffset(2 * 1024 * 1024), 128);
  assert.is(vmdkGrainOffset(0), 128);
  // 8 GiB: 16777216 sectors, 131072 grains, 256 grain tables of 4 sectors, a 2-sector directory:
  // gd_offset 21 + 2 + 1024 = 1047, grain_offset ROUND_UP(1047 + 2 + 1024, 128) = 2176
  assert.is(vmdkGrainOffset(8 * 1024 ** 3), 2176);
});

test('headerWord: a raw image of one byte pattern, zero padding of fresh headers, unknown elsewhere', () => {
  assert.is(headerWord({ file: 'r', format: 'raw', size: 1048576, fills: [[0, 65536, 7]] }, 128, false), 0x07070707);
  assert.is(headerWord({ file: 'r', format: 'raw', size: 0 }, 128, false), 0);
  assert.is(headerWord({ file: 'q', format: 'qed', size: 1048576 }, 0x40, true), 0);
  assert.is(headerWord({ file: 'q', format: 'qed', size: 1048576, backing: 'base.qcow2' }, 0x40, true), undefined);
  assert.is(headerWord({ file: 'v', format: 'vdi', size: 1048576 }, 128, false), 0);
  assert.is(headerWord({ file: 'v', format: 'vdi', size: 1048576 }, 0x170, true), undefined);
  // a v3 qcow2 without backing format, encryption or data file: "bit\\0" of "dirty bit" (recorded)
  assert.is(headerWord({ file: 'c', format: 'qcow2', size: 2097152 }, 128, false), 1651078144);
  assert.is(headerWord({ file: 'c', format: 'qcow2', size: 2097152, compat: '0.10' }, 128, false), undefined);
});

test('cloop_open checks the block size in its order; bochs and dmg refuse any image they are pointed at', () => {
  const raw7 = { file: 'r', format: 'raw', size: 1048576, fills: [[0, 1048576, 7]] as [number, number, number][] };
  assert.is(readOnlyFormatOpenError('cloop', raw7, false, 1048576), 'block_size 117901063 must be a multiple of 512');
  assert.is(readOnlyFormatOpenError('cloop', { file: 'z', format: 'raw', size: 0 }, true, 0), 'block_size cannot be zero');
  assert.is(readOnlyFormatOpenError('cloop', { file: 'c', format: 'qcow2', size: 2097152 }, false, 196608), 'block_size 1651078144 must be 64 MB or less');
  assert.is(readOnlyFormatOpenError('bochs', raw7, false, 1048576), 'Image not in Bochs format');
  assert.is(readOnlyFormatOpenError('dmg', { file: 'z', format: 'raw', size: 0 }, true, 0), 'dmg file must be at least 512 bytes long');
  assert.is(readOnlyFormatOpenError('dmg', raw7, false, 1048576), 'Could not locate UDIF trailer in dmg file');
  // bytes the model does not follow: refused, not guessed
  assert.throws(() => readOnlyFormatOpenError('cloop', { file: 'u', format: 'raw', size: 4096, bytesUnknown: true }, false, 4096), /blockgraph does not model a cloop node/);
});

test.run();
