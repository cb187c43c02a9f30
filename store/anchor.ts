// The anchor: the last synced head (seq + hash) kept outside LevelDB's WAL. LevelDB recovers
// a WAL that was cut short, zeroed or deleted by silently dropping what it cannot read
// (leveldb/db/log_reader.cc ReportCorruption -> Repairer/DBImpl::RecoverLogFile with
// paranoid_checks off), so the records and the head meta vanish together and the log still
// verifies. The anchor is written after every synced append (the ones whose result is
// acknowledged): a log that ends before the anchor, or whose record at the anchor's seq has
// another hash, has lost acknowledged records, and verify says how many.
//
// The file holds two fixed 128-byte slots written alternately in place (a pwrite per synced
// append, an fdatasync every Nth; no rename, no directory fsync): a torn write can spoil only the
// slot being written, and the reader takes the valid slot with the higher seq. Each slot
// carries a CRC, so a garbled one is told apart from an old one.
import { closeSync, fdatasync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ANCHOR_FILE, readSmallFile } from './files.js';

export interface Anchor {
  seq: number;
  hash: string;
}

const MAGIC = 'blockgraph-anchor/1';

/**
 * Anchor work, counted (specs assert it, never time it): slot writes, fdatasyncs an advance
 * waited for (on an acknowledged command's path), fdatasyncs run in the background.
 */
export const anchorWork = { slotWrites: 0, awaitedSyncs: 0, backgroundSyncs: 0 };
const SLOT = 128;
const RESOLVED = Promise.resolve();
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** One slot: the text line padded with spaces to SLOT - 1 bytes, then '\n'. */
function encodeAnchor(a: Anchor): string {
  const body = `${MAGIC} ${a.seq} ${a.hash}`;
  return `${body} ${hex8(crc32(body))}`.padEnd(SLOT - 1, ' ') + '\n';
}

function decodeSlot(text: string): Anchor | undefined {
  const m = /^(blockgraph-anchor\/1 (\d{1,15}) ([0-9a-f]{64}|)) ([0-9a-f]{8}) *\n?$/.exec(text);
  if (!m || hex8(crc32(m[1]!)) !== m[4]) return undefined;
  return { seq: Number(m[2]), hash: m[3]! };
}

/** undefined: no anchor; a string: the anchor is unreadable (why). */
export function readAnchor(dir: string): Anchor | string | undefined {
  const text = readSmallFile(join(dir, ANCHOR_FILE), 4 * SLOT);
  if (text === undefined) return undefined;
  const slots = [decodeSlot(text.slice(0, SLOT)), decodeSlot(text.slice(SLOT, 2 * SLOT))].filter((a): a is Anchor => a !== undefined);
  if (slots.length === 0) return text.length === 0 ? 'anchor file is empty' : 'anchor file is garbled (no slot passes its CRC)';
  return slots.reduce((a, b) => (b.seq > a.seq ? b : a));
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function openAnchor(dir: string): number {
  // Only ever opened after writeAnchor made the file whole.
  return openSync(join(dir, ANCHOR_FILE), 'r+');
}

/**
 * Writes `a` into both slots (a fresh anchor, or one moved back by repair) as a new file:
 * temp file, fsync, rename, fsync the directory. A crash leaves the old file or the new one,
 * never an empty or half-written anchor (which open would have to call damage).
 */
export async function writeAnchor(dir: string, a: Anchor): Promise<void> {
  const path = join(dir, ANCHOR_FILE);
  const tmp = path + '.tmp';
  const fh = await open(tmp, 'w');
  try {
    const slot = encodeAnchor(a);
    await fh.writeFile(slot + slot, 'latin1');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

/**
 * The writer's side: anchors only move forward, one write at a time, so two synced appends
 * finishing close together cannot leave the older head in the file. `syncEvery`: fdatasync the
 * anchor every Nth advance (1: every synced append, before the advance resolves; the slot write
 * itself always happens, and the file is synced on close). Between syncs a power loss can only
 * leave an older anchor, never one ahead of the log (it is written after the records are
 * synced): detection of a later WAL loss then starts from that older head, nothing is reported
 * falsely.
 *
 * The slot write is a synchronous pwrite of 128 bytes into the page cache (issue 15): an
 * asynchronous one costs a round trip through libuv's thread pool on every acknowledged command
 * (the wake-up of a pool thread alone is ~0.1 ms here), for a write that does not block. With
 * syncEvery > 1 the periodic fdatasync runs in the background, off the command's path: the anchor
 * is allowed to lag by that many appends anyway, and it can only lag, never lead. A failed
 * background sync fails the next advance (or close), as a failed write does.
 */
export class AnchorWriter {
  #last = -1;
  #slot = 0;
  #fresh = true;
  #unsynced = 0;
  #fd: number | undefined;
  /** The background fdatasync in flight, if any. */
  #syncing: Promise<void> | undefined;
  #syncError: unknown;
  #queue: Promise<void> = Promise.resolve();
  constructor(readonly dir: string, readonly syncEvery = 1) {}

  /** Calls in the queue or running (0: an advance may write its slot at once). */
  #pending = 0;

  #serial(fn: () => Promise<void> | void): Promise<void> {
    this.#pending++;
    const run = this.#queue.then(fn);
    const done = () => { this.#pending--; };
    this.#queue = run.then(done, done);
    return run;
  }

  #throwSyncError(): void {
    if (this.#syncError === undefined) return;
    const e = this.#syncError;
    this.#syncError = undefined;
    throw e;
  }

  /** fdatasync in the background; at most one at a time (a later one covers every write before it). */
  #syncInBackground(fd: number): void {
    if (this.#syncing) return; // the count stays due: the next advance starts one
    this.#unsynced = 0;
    anchorWork.backgroundSyncs++;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(fd, (e) => {
        if (e) this.#syncError ??= e;
        this.#syncing = undefined;
        resolve();
      });
    });
  }

  advance(seq: number, hash: string): Promise<void> {
    // Nothing queued, the file already made and no fdatasync to wait for: the slot is written now
    // and the advance is over when this returns (issue 15: no queue promises or async function on
    // every acknowledged command; specs/store/anchor-path.spec.ts). Otherwise in turn, as below.
    if (this.#pending === 0 && !this.#fresh && this.syncEvery > 1) {
      try {
        this.#throwSyncError();
        if (seq > this.#last) this.#writeSlot(seq, hash);
      } catch (e) {
        return Promise.reject(e);
      }
      return RESOLVED;
    }
    return this.#serial(async () => {
      this.#throwSyncError();
      if (seq <= this.#last) return;
      if (this.#fresh) {
        // First write of this process: both slots, so no older slot can outrank it.
        await writeAnchor(this.dir, { seq, hash });
        this.#fresh = false;
      } else if (this.syncEvery <= 1) {
        const fd = this.#writeSlotOnly(seq, hash);
        anchorWork.awaitedSyncs++;
        await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
        this.#unsynced = 0;
      } else {
        this.#writeSlot(seq, hash);
        return;
      }
      this.#last = seq;
    });
  }

  /** The slot write (a pwrite into the page cache); the fd. */
  #writeSlotOnly(seq: number, hash: string): number {
    const fd = this.#fd ??= openAnchor(this.dir);
    writeSync(fd, encodeAnchor({ seq, hash }), this.#slot * SLOT, 'latin1');
    anchorWork.slotWrites++;
    this.#slot ^= 1;
    ++this.#unsynced;
    return fd;
  }

  /** With syncEvery > 1: the slot write, and every Nth the fdatasync started in the background. */
  #writeSlot(seq: number, hash: string): void {
    const fd = this.#writeSlotOnly(seq, hash);
    if (this.#unsynced >= this.syncEvery) this.#syncInBackground(fd);
    this.#last = seq;
  }

  /** After repair: the anchor moves back to the repaired head (the repair report names the loss). */
  reset(seq: number, hash: string): Promise<void> {
    return this.#serial(async () => {
      await this.#closeFile();
      await writeAnchor(this.dir, { seq, hash });
      this.#last = seq;
      this.#fresh = false;
    });
  }

  async #closeFile(): Promise<void> {
    await this.#syncing;
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) return this.#throwSyncError();
    try {
      if (this.#unsynced > 0) fdatasyncSync(fd);
      this.#unsynced = 0;
    } finally {
      closeSync(fd);
    }
    this.#throwSyncError();
  }

  close(): Promise<void> {
    return this.#serial(() => this.#closeFile());
  }
}
