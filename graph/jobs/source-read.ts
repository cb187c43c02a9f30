// A job's guest read of its source followed down the graph to the blkdebug nodes on its way
// (bdrv_co_preadv_part), for the errors their inject-error rules give (block/blkdebug.c): the
// debug events the drivers raise on their file child (raw_co_preadv: BLKDBG_READ_AIO;
// qcow2_co_preadv_part: BLKDBG_READ_AIO for an allocated cluster, BLKDBG_READ_BACKING_AIO before
// it reads an unallocated one from its backing) activate rules, and rule_check fails the first
// read of a blkdebug node that an active rule covers. Host offsets of a qcow2 layer's own
// clusters are not modelled: below such a layer only rules without a sector can match.
import type { Proc } from '../proc.js';
import { commitDebugState } from '../blkdebug-state.js';
import { debugEvent, debugReadCheck } from '../read.js';
import { layerStatus } from './allocation.js';

const FILTERS = new Set(['throttle', 'copy-on-read', 'compress', 'copy-before-write']);

/** The errno text a read of [offset, offset + bytes) of `node` fails with, or undefined. */
export function guestReadErrno(p: Proc, node: string, offset: number, bytes: number, hostUnknown = false): string | undefined {
  const commit = commitDebugState(p);
  let cur: string | undefined = node;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n || bytes <= 0) return undefined;
    const via = (name: string) => p.childrenOf(cur!).find((e) => e.name === name)?.child;
    if (n.driver === 'raw') {
      cur = via('file');
      if (cur) debugEvent(p, cur, 'read_aio', commit);
      offset += Number(n.options.offset ?? 0);
    } else if (n.driver === 'blkdebug') {
      const err = hostUnknown ? debugReadCheck(p, cur, Number.MAX_SAFE_INTEGER, 0, commit) : debugReadCheck(p, cur, offset, bytes, commit);
      if (err) return err;
      cur = via('image');
    } else if (FILTERS.has(n.driver)) {
      cur = via('file');
    } else if (n.driver === 'qcow2') {
      // qcow2_co_preadv_part: one task per run of the same cluster status
      const file = via('file');
      const backing = via('backing');
      for (let o = offset, guard = 0; o < offset + bytes && guard < 100_000; guard++) {
        const st = layerStatus(p, cur, o, offset + bytes - o);
        const len = st.n > 0 ? st.n : offset + bytes - o;
        if (st.alloc) {
          if (file) debugEvent(p, file, 'read_aio', commit);
          const err = file ? guestReadErrno(p, file, o, len, true) : undefined;
          if (err) return err;
        } else if (backing) {
          if (file) debugEvent(p, file, 'read_backing_aio', commit);
          const err = guestReadErrno(p, backing, o, len, hostUnknown);
          if (err) return err;
        }
        o += len;
      }
      return undefined;
    } else return undefined;
  }
  return undefined;
}
