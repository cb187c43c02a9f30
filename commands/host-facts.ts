import { QmpError } from '../errors/index.js';
import { DIRECT_IO_ALIGNMENTS, setHostFacts } from '../graph/host-facts.js';
import type { CommandDef } from './types.js';

/**
 * Declares facts of the host the images live on (a scenario's `host` member): today
 * `direct-io-alignment`, what raw_probe_alignment (file-posix.c) finds there for O_DIRECT.
 * Logged like every command, so a replay knows it; the model never looks at its own machine.
 * Bad input is refused before anything is written.
 */
export const hostFactsCommand: CommandDef = {
  name: 'x-blockgraph-host',
  mutates: true,
  run({ p, args }) {
    for (const k of Object.keys(args)) if (k !== 'direct-io-alignment') throw new QmpError(`Parameter '${k}' is unexpected`);
    const a = args['direct-io-alignment'];
    if (a === undefined) return {};
    if (typeof a !== 'number') throw new QmpError("Invalid parameter type for 'direct-io-alignment', expected: integer");
    if (!(DIRECT_IO_ALIGNMENTS as readonly number[]).includes(a)) {
      throw new QmpError(`Parameter 'direct-io-alignment' does not accept value '${a}' (one of: ${DIRECT_IO_ALIGNMENTS.join(', ')})`);
    }
    setHostFacts(p.d, { directIoAlignment: a });
    return {};
  },
};
