// The anchor: the last synced head (seq + hash) kept outside LevelDB's WAL. LevelDB recovers
// a WAL that was cut short, zeroed or deleted by silently dropping what it cannot read
// (leveldb/db/log_reader.cc ReportCorruption -> Repairer/DBImpl::RecoverLogFile with
// paranoid_checks off), so the records and the head meta vanish together and the log still
// verifies. The anchor is written after every synced append (the ones whose result is
// acknowledged): a log that ends before the anchor, or whose record at the anchor's seq has
// another hash, has lost acknowledged records, and verify says how many.
//
// The file is replaced whole (write temp, fsync, rename, fsync the directory), so it is either
// the old or the new anchor, never a torn one; a line with a CRC lets a garbled one be told apart.
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ANCHOR_FILE, readSmallFile } from './files.js';

export interface Anchor {
  seq: number;
  hash: string;
}

const MAGIC = 'blockgraph-anchor/1';
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

export function encodeAnchor(a: Anchor): string {
  const body = `${MAGIC} ${a.seq} ${a.hash}`;
  return `${body} ${hex8(crc32(body))}\n`;
}

/** undefined: no anchor; a string: the anchor is unreadable (why). */
export function readAnchor(dir: string): Anchor | string | undefined {
  const text = readSmallFile(join(dir, ANCHOR_FILE), 1024);
  if (text === undefined) return undefined;
  const m = /^(blockgraph-anchor\/1 (\d{1,15}) ([0-9a-f]{64}|)) ([0-9a-f]{8})\n$/.exec(text);
  if (!m) return 'anchor file is garbled';
  if (hex8(crc32(m[1]!)) !== m[4]) return 'anchor file fails its CRC';
  return { seq: Number(m[2]), hash: m[3]! };
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeAnchor(dir: string, a: Anchor): Promise<void> {
  const tmp = join(dir, ANCHOR_FILE + '.tmp');
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(encodeAnchor(a));
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, join(dir, ANCHOR_FILE));
  await fsyncDir(dir);
}

/**
 * The writer's side: anchors only move forward, one write at a time, so two synced appends
 * finishing close together cannot leave the older head in the file.
 */
export class AnchorWriter {
  #last = -1;
  #queue: Promise<void> = Promise.resolve();
  constructor(readonly dir: string) {}

  advance(seq: number, hash: string): Promise<void> {
    const run = this.#queue.then(async () => {
      if (seq <= this.#last) return;
      await writeAnchor(this.dir, { seq, hash });
      this.#last = seq;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** After repair: the anchor moves back to the repaired head (the report names what was lost). */
  reset(seq: number, hash: string): Promise<void> {
    const run = this.#queue.then(async () => {
      await writeAnchor(this.dir, { seq, hash });
      this.#last = seq;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
