// The fleet stream: one JetStream stream holding every host's log, subjects
// blockgraph.<fleet>.<host>.<store>, file storage, replicated (3 by default: a write is
// acknowledged once a majority has it, so one server may die without losing it).
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { BlockgraphError } from '../../errors/index.js';
import { SUBJECT_ROOT } from './url.js';

export const STREAM = 'BLOCKGRAPH';
/** How long the server remembers a message id to drop a retried duplicate (nanoseconds). */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;

export function isNotFound(e: unknown): boolean {
  const err = e as { message?: unknown; code?: unknown; api_error?: { err_code?: number } } | null;
  return err?.api_error?.err_code === 10059 || /stream not found/i.test(String(err?.message ?? ''));
}

const errCode = (e: unknown): number | undefined => {
  const err = e as { code?: unknown; api_error?: { err_code?: number } } | null;
  return err?.api_error?.err_code ?? (typeof err?.code === 'number' ? err.code : undefined);
};

/**
 * The cluster cannot place the stream's replicas yet: too few servers up ("no suitable peers
 * for placement", 10005; "insufficient resources", 10023). A stream that cannot be placed has
 * no leader, so an open treats it as an election still running (bounded by `leaderWaitMs`).
 */
export function isPlacementPending(e: unknown): boolean {
  const code = errCode(e);
  return code === 10005 || code === 10023 || /no suitable peers|insufficient resources/i.test(String((e as Error | null)?.message ?? ''));
}

/** Creates the stream if it is missing; an existing stream is used as it is. */
export async function ensureStream(jsm: JetStreamManager, name = STREAM, replicas = 3): Promise<void> {
  try {
    await jsm.streams.info(name);
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [`${SUBJECT_ROOT}.>`],
      storage: StorageType.File,
      num_replicas: replicas,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      duplicate_window: DUPLICATE_WINDOW_NS,
      allow_direct: true,
    });
  } catch (e) {
    // Another opener created it first.
    if (/already in use|stream name already/i.test(String((e as Error).message))) return;
    // A server without a cluster can never hold a replicated stream: say so now, not after
    // the retry window (a single `nats-server -js` answered the same 10074 to every retry).
    if (errCode(e) === 10074 || /not supported in non-clustered mode/i.test(String((e as Error).message))) {
      throw new BlockgraphError('BG_LOG_UNAVAILABLE',
        `the NATS server runs JetStream without a cluster, and stream ${name} is created with ${replicas} replicas: run a JetStream cluster (npm run fleet:cluster starts 3 servers), or create the stream yourself with 1 replica (nats stream add ${name} --subjects '${SUBJECT_ROOT}.>' --storage file --replicas 1 --dupe-window 10m --allow-direct)`,
        { stream: name, replicas });
    }
    throw e;
  }
}
