import { QmpError } from '../errors/index.js';
import type { CommandDef } from './types.js';

/**
 * blockgraph's own process settings. `format-locking` (default false) turns on seed 002's
 * format locking as a fallback for protocol leaves that cannot lock; QEMU never merged it,
 * so it is off unless asked for, and it applies to nodes opened after it is set.
 */
export const configure: CommandDef = {
  name: 'x-blockgraph-configure',
  mutates: true,
  run({ p, args }) {
    for (const k of Object.keys(args)) if (k !== 'format-locking') throw new QmpError(`Parameter '${k}' is unexpected`);
    if (args['format-locking'] !== undefined) {
      if (typeof args['format-locking'] !== 'boolean') throw new QmpError("Invalid parameter type for 'format-locking', expected: boolean");
      p.setMeta({ formatLocking: args['format-locking'] });
    }
    return {};
  },
};
