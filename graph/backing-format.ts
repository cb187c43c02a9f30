/**
 * BlockDriverState.backing_format is a char[16]: bdrv_change_backing_file (block.c) and
 * qcow2_change_backing_file (block/qcow2.c, 7.2 and 10.0) pstrcpy the format name into it, and
 * qcow2 writes that copy (s->image_backing_format = g_strdup(bs->backing_format)) as the header's
 * backing format extension. So a name of 16 characters or more ('copy-before-write') is kept as
 * its first 15 ('copy-before-wri'), which a later open of the image's backing cannot find
 * (bdrv_fill_options: "Unknown driver 'copy-before-wri'"; fuzz 3300086657).
 */
export function backingFormatField(format: string): string {
  return format.length > 15 ? format.slice(0, 15) : format;
}
