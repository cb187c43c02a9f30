// How qemu-io's writes (an image's `data`) grow the host file of the other formats: each write
// into a block the image has not allocated yet appends one (7.2 and 10.0 alike).
// - vhdx_co_writev -> vhdx_allocate_block: the block at ROUND_UP(bdrv_getlength(file), 1 MiB),
//   the file truncated to its end (block_size);
// - vpc_co_pwritev -> alloc_block: the block's sector bitmap and data where the footer was, the
//   footer written again after it (bitmap_size 512 bytes for 2 MiB blocks), a dynamic image only;
// - vmdk_pwritev -> get_cluster_offset's allocation: a 64 KiB grain at the file's end
//   (monolithicSparse; streamOptimized writes deflated grains, not followed);
// - parallels_co_writev -> allocate_clusters: a cluster past data_end (the preallocation past it is
//   cut again by parallels_close's truncate to data_end when qemu-io closes the image);
// - vdi_co_pwritev: a new block (1 MiB) at the end of the block area.
// undefined: not followed (the file length stays the create's).
import { otherFormatInfoCluster } from './other-formats.js';

const MiB = 1048576;
const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;

/** The file length after qemu-io wrote `data` ([offset, length] regions in order) into a new image of `len` bytes. */
export function otherFormatLengthAfterData(format: string, size: number, options: string | undefined, len: number, data: { offset: number; length: number }[]): number | undefined {
  const opt = (k: string) => new RegExp(`(?:^|,)${k}=([^,]+)`).exec(options ?? '')?.[1];
  const blockOf = (): number | undefined => {
    switch (format) {
      case 'vhdx': return opt('subformat') === 'fixed' ? undefined : otherFormatInfoCluster('vhdx', size, options ?? '');
      case 'vpc': return opt('subformat') === 'fixed' ? undefined : 0x200000;
      case 'vmdk': return (opt('subformat') ?? 'monolithicSparse') === 'monolithicSparse' ? 65536 : undefined;
      case 'parallels': return opt('cluster_size') !== undefined ? Number(opt('cluster_size')) : MiB;
      case 'vdi': return opt('static') === 'on' || opt('preallocation') === 'metadata' ? undefined : MiB;
      default: return undefined;
    }
  };
  const block = blockOf();
  if (block === undefined || !block) return undefined;
  const seen = new Set<number>();
  let out = len;
  for (const r of data) {
    if (r.length <= 0) continue;
    for (let b = Math.floor(r.offset / block); b <= Math.floor((r.offset + r.length - 1) / block); b++) {
      if (seen.has(b)) continue;
      seen.add(b);
      if (format === 'vhdx') out = roundUp(out, MiB) + block;
      else if (format === 'vpc') out += 512 + block; // bitmap sector and block; the footer moves past them
      else out += block;
    }
  }
  return out;
}

/**
 * parallels_open of a writable, active node marks the image in use (header->inuse,
 * parallels_update_header): bdrv_pwrite_sync(bs->file, 0, size) of MAX(opt_mem_align 4096, 64)
 * bytes cut to s->header_size, which is the header and BAT unrounded (64 + 4 * bat_entries)
 * whenever data_end, kept in sectors, is below that rounded to 4096 bytes (always for
 * parallels_co_create's layout). The end of that write (wr_highest_offset), for an image of the
 * default 1 MiB clusters.
 */
export function parallelsInuseWriteEnd(size: number, sectorsAgainstBytes: boolean): number {
  const bat = Math.ceil(size / MiB);
  const headerAndBat = 64 + 4 * bat;
  const dataEndSectors = roundUp(headerAndBat, MiB) / 512;
  // rule parallels-header-size-units: 7.2 compares the sectors with bytes, 10.0 with sectors
  const rounded = roundUp(headerAndBat, 4096);
  const headerSize = dataEndSectors < (sectorsAgainstBytes ? rounded : rounded / 512) ? headerAndBat : rounded;
  return Math.min(Math.max(4096, 64), headerSize);
}
