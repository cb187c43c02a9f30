// The spec files' NATS cluster: started on first use, stopped by the file's last suite (or at
// process exit). Where nats-server is not installed the fleet specs say so and skip.
import { suite } from 'uvu';
import { NatsCluster, natsServerBinary } from '../../testing/nats-cluster.js';

export const natsAvailable = (): boolean => natsServerBinary() !== undefined;

export const SKIP_NOTE = 'skipped: nats-server not installed (apt-get install -y nats-server): JetStream specs not run';

let shared: Promise<NatsCluster> | undefined;
let users = 0;

/**
 * The cluster of a spec file. `shared` (default) is one cluster for every such file of the run:
 * uvu imports every spec file before it runs any suite, so each file registers here first and
 * the cluster stops when the last file's closing suite runs. Files that kill servers pass
 * `shared: false` and get their own. Run `closing()` after the file's suites.
 */
export function clusterForFile(name: string, opts: { shared?: boolean } = {}): { get: () => Promise<NatsCluster>; closing: () => void } {
  const own = opts.shared === false;
  let mine: Promise<NatsCluster> | undefined;
  if (!own) users++;
  return {
    get: () => (own ? (mine ??= NatsCluster.start()) : (shared ??= NatsCluster.start())),
    closing: () => {
      const s = suite(`${name}: stop the NATS cluster`);
      s('cluster stopped (or left to the other files using it)', async () => {
        if (own) {
          if (mine) await (await mine.catch(() => undefined))?.stop();
          mine = undefined;
          return;
        }
        if (--users > 0 || !shared) return;
        const c = shared;
        shared = undefined;
        await (await c.catch(() => undefined))?.stop();
      });
      s.run();
    },
  };
}

/** Bounded wait: a lost record must fail the spec, not hang it. */
export async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: not done after ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
