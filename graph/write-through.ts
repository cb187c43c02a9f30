// The filters a write request goes through unchanged: the child each passes it to at the same
// offset (bdrv_co_pwritev of its .bdrv_co_pwritev's child). raw passes it to `file` shifted by its
// `offset` (raw_adjust_offset), which callers add themselves.
export const WRITE_PASS_THROUGH: Readonly<Record<string, string>> = {
  throttle: 'file', 'copy-on-read': 'file', compress: 'file', 'copy-before-write': 'file', preallocate: 'file',
  blklogwrites: 'file', blkdebug: 'image',
};
