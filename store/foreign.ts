// A LevelDB that is not ours: a store directory that holds some other program's database opens
// as LevelDB happily, and read as an empty log it would `verify` clean and take blockgraph's
// records beside the other program's keys. Every key of a blockgraph store lies under one of its
// sublevels (`!log!`, `!meta!`, `!nidx!`, `!snap!`, `!snapp!`); a key anywhere else names the
// database as foreign. Checked with one bounded seek per gap between the prefixes (six reads of
// at most one key), so it costs nothing next to the open itself.
import { BlockgraphError } from '../errors/index.js';
import type { AnyLevel } from './codec.js';
import { LOG, META, NIDX, SNAP } from './codec.js';
import { SNAP_PARTS } from './snapshot-parts.js';

const PREFIXES = [LOG, META, NIDX, SNAP, SNAP_PARTS].map((n) => `!${n}!`).sort();
/** The first key after every key that starts with `p`. */
const after = (p: string) => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);

/** A key of `db` outside blockgraph's sublevels, if there is one. */
export async function foreignKey(db: AnyLevel): Promise<string | undefined> {
  const gaps: { gte?: string; lt?: string }[] = [];
  let from: string | undefined;
  for (const p of PREFIXES) {
    gaps.push(from === undefined ? { lt: p } : { gte: from, lt: p });
    from = after(p);
  }
  gaps.push({ gte: from });
  for (const g of gaps) {
    if (g.gte !== undefined && g.lt !== undefined && g.gte >= g.lt) continue;
    const keys = await (db as unknown as { keys(o: object): { all(): Promise<string[]> } }).keys({ ...g, limit: 1, keyEncoding: 'utf8' }).all();
    if (keys.length) return keys[0];
  }
  return undefined;
}

/**
 * A database with no log record that holds other keys is another program's LevelDB: refused
 * (BG_BAD_INPUT) before anything reads it as a log or writes into it. Callers that know the log
 * is empty (EventLog.open at head 0) call it; so does repair, before it salvages anything.
 */
export async function refuseForeign(db: AnyLevel): Promise<void> {
  const k = await foreignKey(db);
  if (k === undefined) return;
  const logKey = await (db as unknown as { keys(o: object): { all(): Promise<string[]> } }).keys({ gte: `!${LOG}!`, lt: after(`!${LOG}!`), limit: 1, keyEncoding: 'utf8' }).all();
  if (logKey.length) return; // a store of ours that something else also wrote into: its records are still ours to read
  throw new BlockgraphError('BG_BAD_INPUT', `not a blockgraph store: a LevelDB database holding other keys (${JSON.stringify(k.length > 60 ? k.slice(0, 60) + '…' : k)})`);
}
