// What of a command's arguments the log keeps (docs/hostile.md "Secrets and the log"): a
// passphrase never. object-add of a `secret` carries it in `data`, blockgraph's own
// x-blockgraph-image-create in `secret` (an encrypted image's qemu-img passphrase), and qom-set
// could try to set a secret's `data`. The logged copy says `<redacted>` there; the command itself
// runs on the real arguments, in memory, and what the model keeps of the bytes is their digest
// (graph/secret-digest.ts) in the state's after-images. Replay folds those after-images and never
// runs a command again, so nothing the redaction removes is needed to rebuild the state.
import { REDACTED } from '../graph/secret-digest.js';

type Args = Record<string, unknown>;

/** The arguments as the log may keep them (the same object when nothing is secret). */
export function redactSecrets(command: string, args: Args | undefined): Args | undefined {
  if (!args || typeof args !== 'object') return args;
  if (command === 'object-add' && args['qom-type'] === 'secret' && args.data !== undefined) return { ...args, data: REDACTED };
  if (command === 'x-blockgraph-image-create' && args.secret !== undefined) return { ...args, secret: REDACTED };
  if (command === 'qom-set' && args.property === 'data' && args.value !== undefined) return { ...args, value: REDACTED };
  return args;
}
