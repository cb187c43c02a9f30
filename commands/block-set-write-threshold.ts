// block-set-write-threshold (block/write-threshold.c, QEMU 7.2): bdrv_find_node by node name
// only, then bs->write_threshold_offset; 0 disables it. The BLOCK_WRITE_THRESHOLD event needs a
// write past the threshold, which the model (no I/O) never does. Shown in query-named-block-nodes.
import { QmpError } from '../errors/index.js';
import type { CommandDef } from './types.js';

export const blockSetWriteThreshold: CommandDef = {
  name: 'block-set-write-threshold',
  mutates: true,
  run({ p, args }) {
    const name = String(args['node-name']);
    const n = p.node(name);
    if (!n) throw new QmpError(`Device '${name}' not found`);
    const threshold = Number(args['write-threshold']);
    p.step(`write threshold ${name}`);
    if (threshold === 0) {
      const { writeThreshold: _w, ...rest } = n;
      p.putNode(rest);
    } else {
      p.patchNode(name, { writeThreshold: threshold });
    }
    return {};
  },
};
