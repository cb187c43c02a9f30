// The anchor: the last synced head (seq + hash) kept outside LevelDB's WAL. LevelDB recovers
// a WAL that was cut short, zeroed or deleted by silently dropping what it cannot read
// (leveldb/db/log_reader.cc ReportCorruption -> Repairer/DBImpl::RecoverLogFile with
// paranoid_checks off), so the records and the head meta vanish together and the log still
// verifies. The anchor is written after every synced append (the ones whose result is
// acknowledged): a log that ends before the anchor, or whose record at the anchor's seq has
// another hash, has lost acknowledged records, and verify says how many.
//
// The file holds two fixed 128-byte slots written alternately in place (one pwrite and one
// fdatasync per synced append; no rename, no directory fsync): a torn write can spoil only the
// slot being written, and the reader takes the valid slot with the higher seq. Each slot
// carries a CRC, so a garbled one is told apart from an old one.
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ANCHOR_FILE, readSmallFile } from './files.js';

export interface Anchor {
  seq: number;
  hash: string;
}

const MAGIC = 'blockgraph-anchor/1';
const SLOT = 128;
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

async function openAnchor(dir: string): Promise<FileHandle> {
  // Only ever opened after writeAnchor made the file whole.
  return open(join(dir, ANCHOR_FILE), 'r+');
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
 * anchor every Nth advance (1: every synced append; the slot write itself always happens, and
 * the file is synced on close). Between syncs a power loss can only leave an older anchor,
 * never one ahead of the log (it is written after the records are synced): detection of a
 * later WAL loss then starts from that older head, nothing is reported falsely.
 */
export class AnchorWriter {
  #last = -1;
  #slot = 0;
  #fresh = true;
  #unsynced = 0;
  #fh: FileHandle | undefined;
  #queue: Promise<void> = Promise.resolve();
  constructor(readonly dir: string, readonly syncEvery = 1) {}

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  advance(seq: number, hash: string): Promise<void> {
    return this.#serial(async () => {
      if (seq <= this.#last) return;
      if (this.#fresh) {
        // First write of this process: both slots, so no older slot can outrank it.
        await writeAnchor(this.dir, { seq, hash });
        this.#fresh = false;
      } else {
        this.#fh ??= await openAnchor(this.dir);
        await this.#fh.write(encodeAnchor({ seq, hash }), this.#slot * SLOT, 'latin1');
        this.#slot ^= 1;
        if (++this.#unsynced >= this.syncEvery) {
          await this.#fh.datasync();
          this.#unsynced = 0;
        }
      }
      this.#last = seq;
    });
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
    const fh = this.#fh;
    this.#fh = undefined;
    if (!fh) return;
    try {
      if (this.#unsynced > 0) await fh.datasync();
      this.#unsynced = 0;
    } finally {
      await fh.close();
    }
  }

  close(): Promise<void> {
    return this.#serial(() => this.#closeFile());
  }
}
