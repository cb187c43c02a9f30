import { BlockgraphError, QmpError } from '../errors/index.js';
import { createImage } from '../graph/images.js';
import type { CommandDef } from './types.js';

/**
 * blockgraph's own `qemu-img create`: adds an image to the host catalogue. Not a QEMU
 * command (hence the x-blockgraph- prefix); the CLI's `image create` and scenario setup use it.
 */
export const imageCreate: CommandDef = {
  name: 'x-blockgraph-image-create',
  mutates: true,
  run({ p, args }) {
    try {
      createImage(p.d, args as never);
    } catch (e) {
      if (e instanceof BlockgraphError && e.code === 'BG_BAD_INPUT') throw new QmpError(e.message);
      throw e;
    }
    return {};
  },
};
