// A fuzz case's images are copies that keep the cached images' holes and their written zeroes
// (oracle/fuzz/copy-holes.ts): file-posix's block status tells them apart (SEEK_DATA), and
// block-copy and detect-zeroes act on it (fuzz 2644260359: a fully allocated copy of the sparse
// r.raw made a drive-backup discard 8 MiB of its qcow2 target, the recorder's image 64 KiB).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyKeepingHoles, dataExtents } from '../../oracle/fuzz/copy-holes.js';
import { FUZZ_IMAGES, ImageCache } from '../../oracle/fuzz/index.js';

const have = spawnSync('qemu-img', ['--version']).status === 0 && spawnSync('qemu-io', ['--version']).status === 0;

test('a copy has the source\'s holes, data and written zeroes where they were', async () => {
  if (!have) return;
  const dir = mkdtempSync(join(tmpdir(), 'bg-copyholes-spec-'));
  try {
    const src = join(dir, 's.raw');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', src, '16M']);
    // a MiB of written zeroes at 1 MiB, a MiB of data at 4 MiB, holes elsewhere
    execFileSync('qemu-io', ['-f', 'raw', '-c', 'write -P 0 1M 1M', '-c', 'write -P 7 4M 1M', src], { stdio: 'ignore' });
    const ext = await dataExtents('qemu-img', src);
    // raw_co_create's allocate_first_block writes the first 4 KiB
    assert.equal(ext, [[0, 4096], [1 << 20, 1 << 20], [4 << 20, 1 << 20]]);
    const dst = join(dir, 'd.raw');
    await copyKeepingHoles(src, dst, ext);
    assert.equal(statSync(dst).size, 16 << 20);
    assert.equal(await dataExtents('qemu-img', dst), ext, 'the written zeroes stay data, the holes stay holes');
    assert.equal(execFileSync('cmp', [src, dst]).length, 0, 'same bytes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fuzz cache\'s copy of the sparse r.raw has no data past its first block (fs.copyFile allocated all 16 MiB)', async () => {
  if (!have) return;
  const root = mkdtempSync(join(tmpdir(), 'bg-copyholes-spec-'));
  const cache = new ImageCache(undefined, root);
  try {
    const c = await cache.caseDir({ name: 'spec', description: '', covers: ['spec'], images: FUZZ_IMAGES, steps: [] });
    await c.ensure({ execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f', filename: 'r.raw' } });
    await c.ensure({ execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'g', filename: 'top.qcow2' } });
    const r = join(c.dir, 'r.raw');
    assert.equal(statSync(r).size, 16 << 20);
    // all hole but the first 4 KiB, which qemu-img create's allocate_first_block wrote
    assert.equal(statSync(r).blocks, 8, 'r.raw is a hole after its first block');
    assert.equal(await dataExtents('qemu-img', r), [[0, 4096]]);
    // top.qcow2's chain came along, its data clusters allocated in the file
    const mid = await dataExtents('qemu-img', join(c.dir, 'mid.qcow2'));
    assert.ok(mid.reduce((n, [, l]) => n + l, 0) >= 8 << 20, 'mid.qcow2 keeps its 8 MiB of data');
    await cache.release(c.dir);
  } finally {
    await cache.dispose();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
