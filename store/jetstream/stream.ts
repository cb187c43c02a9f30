// The fleet stream: one JetStream stream holding every host's log, subjects
// blockgraph.<fleet>.<host>.<store>, file storage, replicated (3 by default: a write is
// acknowledged once a majority has it, so one server may die without losing it).
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { SUBJECT_ROOT } from './url.js';

export const STREAM = 'BLOCKGRAPH';
/** How long the server remembers a message id to drop a retried duplicate (nanoseconds). */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;

export function isNotFound(e: unknown): boolean {
  const err = e as { message?: unknown; code?: unknown; api_error?: { err_code?: number } } | null;
  return err?.api_error?.err_code === 10059 || /stream not found/i.test(String(err?.message ?? ''));
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
    if (!/already in use|stream name already/i.test(String((e as Error).message))) throw e;
  }
}
