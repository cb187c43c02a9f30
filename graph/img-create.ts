// bdrv_img_create's checks before it creates anything (block.c, 7.2), as drive-backup (and
// drive-mirror, blockdev-snapshot-sync) reach it with a format taken from the source node when
// none is given: a filter or a driver without .create_opts is refused by name, and a backing file
// name is refused by a format whose create options have none (raw, file, host_device).
import { QmpError } from '../errors/index.js';
import { driverInfo } from './drivers.js';

/** Drivers with .create_opts among the model's drivers, and whether those options have backing_file. */
const CREATE_OPTS: Record<string, { backing: boolean }> = {
  qcow2: { backing: true }, qed: { backing: true }, raw: { backing: false }, file: { backing: false }, host_device: { backing: false },
  // vdi_create_opts, vpc_create_opts, vhdx_create_opts, parallels_create_opts have no
  // backing_file; qcow_create_opts and vmdk_create_opts do
  vdi: { backing: false }, vpc: { backing: false }, vhdx: { backing: false }, parallels: { backing: false }, qcow: { backing: true }, vmdk: { backing: true },
};

/** The image formats bdrv_img_create makes besides raw (graph/images.ts createImage lays them out). */
export type CreatedFormat = 'qcow2' | 'qed' | 'vdi' | 'vpc' | 'vhdx' | 'parallels' | 'qcow' | 'vmdk';

/**
 * bdrv_img_create up to qemu_opt_set(BLOCK_OPT_BACKING_FILE): throws QEMU's error, or returns the
 * image format to create (a protocol driver's file holds raw data).
 */
export function imgCreateChecks(format: string, backing: string | null, filename?: string): CreatedFormat | 'raw' {
  // bdrv_find_format
  if (!driverInfo(format)) throw new QmpError(`Unknown file format '${format}'`);
  const opts = CREATE_OPTS[format];
  if (!opts) throw new QmpError(`Format driver '${format}' does not support image creation`);
  if (backing && !opts.backing) throw new QmpError(`Backing file not supported for file format '${format}'`);
  // then, before the backing is opened or anything created: the new image's name (as given) must
  // not be its backing file's name (strcmp)
  if (backing && filename !== undefined && filename === backing) {
    throw new QmpError('Error: Trying to create an image with the same filename as the backing file');
  }
  return format === 'raw' || format === 'file' || format === 'host_device' ? 'raw' : format as CreatedFormat;
}
