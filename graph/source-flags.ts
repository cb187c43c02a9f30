// drive-backup's and drive-mirror's target opens with the source's open flags
// (drive_backup_prepare / qmp_drive_mirror: `flags = bs->open_flags | BDRV_O_RDWR`), and
// bdrv_open_inherit's update_options_from_flags turns them into the target's typed options where
// none was given: cache.direct from BDRV_O_NOCACHE, cache.no-flush from BDRV_O_NO_FLUSH,
// auto-read-only from BDRV_O_AUTO_RDONLY, read-only off (RDWR). A source opened with
// cache.no-flush makes a target that ignores flushes too (fuzz 804681802, 7.2 and 10.0 alike).
import type { BdsNode } from './types.js';

const on = (v: unknown): boolean => v === true || v === 'on' || v === 'true';

/** The target's options from `src`'s open flags, as the parent options a child inherits. */
export function sourceFlagOptions(src: BdsNode): Record<string, string> {
  return {
    'read-only': 'off',
    'cache.direct': on(src.options['cache.direct']) ? 'on' : 'off',
    'cache.no-flush': on(src.options['cache.no-flush']) ? 'on' : 'off',
    'auto-read-only': on(src.options['auto-read-only']) ? 'on' : 'off',
  };
}
