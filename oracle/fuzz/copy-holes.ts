// The fuzz cases' image copies keep the cached images' holes exactly. A case's images are copies
// of one set made per run (ImageCache.prepare), and fs.copyFile writes every byte: a sparse file
// came out fully allocated. QEMU sees the difference: file-posix's raw_co_block_status answers
// from SEEK_DATA/SEEK_HOLE, so a hole reads as BDRV_BLOCK_ZERO and written zeroes as
// BDRV_BLOCK_DATA. block-copy then writes zeroes for the first (block_copy_do_copy's
// COPY_WRITE_ZEROES, no BDRV_REQ_MAY_UNMAP) and reads and writes the second, which a target
// opened with detect-zeroes=unmap (drive-backup's, drive-mirror's) turns into a zero write with
// BDRV_REQ_MAY_UNMAP (bdrv_aligned_pwritev), so a qcow2 target frees and discards its clusters
// (zero_in_l2_slice). The recorder and the model start from qemu-img's sparse images (fuzz
// 2644260359: 8 MiB discarded on the copy, 64 KiB on the recorder's image and in the model).
// Copying the data extents alone (neither `cp --sparse` nor `dd conv=sparse`, which also punch
// written zeroes) gives the copy the source's allocation as file-posix reports it.
import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** [offset, length] of the runs of a host file that hold data (not holes). */
export type DataExtents = [number, number][];

/**
 * The file's data extents as file-posix's block status reports them: `qemu-img map -f raw`
 * (raw_co_block_status: SEEK_DATA/SEEK_HOLE), clipped to the file's length.
 */
export async function dataExtents(qemuImg: string, file: string): Promise<DataExtents> {
  const { stdout } = await run(qemuImg, ['map', '--output=json', '-f', 'raw', file], { maxBuffer: 64 << 20 });
  const size = (await stat(file)).size;
  const out: DataExtents = [];
  for (const e of JSON.parse(stdout) as { start: number; length: number; data: boolean }[]) {
    if (!e.data) continue;
    const len = Math.min(e.start + e.length, size) - e.start;
    if (len <= 0) continue;
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === e.start) last[1] += len;
    else out.push([e.start, len]);
  }
  return out;
}

/** Copies `src` to a new `dst` of the same length, writing only `extents`: the rest stays holes. */
export async function copyKeepingHoles(src: string, dst: string, extents: DataExtents): Promise<void> {
  const size = (await stat(src)).size;
  const from = await open(src, 'r');
  try {
    const to = await open(dst, 'w');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (const [start, length] of extents) {
        for (let off = start; off < start + length;) {
          const want = Math.min(buf.length, start + length - off);
          const { bytesRead } = await from.read(buf, 0, want, off);
          if (bytesRead === 0) break;
          await to.write(buf, 0, bytesRead, off);
          off += bytesRead;
        }
      }
      await to.truncate(size);
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
