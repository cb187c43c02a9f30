// The spec files' NATS cluster: started on first use, stopped by the file's last suite (or at
// process exit). Where nats-server is not installed the fleet specs say so and skip.
import { suite } from 'uvu';
import { NatsCluster, natsServerBinary } from '../../testing/nats-cluster.js';

export const natsAvailable = (): boolean => natsServerBinary() !== undefined;

export const SKIP_NOTE = 'skipped: nats-server not installed (apt-get install -y nats-server): JetStream specs not run';

/** One cluster per spec file; `closing(name)` registers the suite that stops it, run it last. */
export function clusterForFile(name: string): { get: () => Promise<NatsCluster>; closing: () => void } {
  let started: Promise<NatsCluster> | undefined;
  return {
    get: () => (started ??= NatsCluster.start()),
    closing: () => {
      const s = suite(`${name}: stop the NATS cluster`);
      s('cluster stopped', async () => {
        if (started) await (await started.catch(() => undefined))?.stop();
        started = undefined;
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
