// A drill child: runs the calls of a job file on a real classic-level store and dies by SIGKILL
// at its crash point (or when the parent kills it). Prints "ready", then one "ack CALL HEAD REPLY"
// line per reply the moment it has it (synchronous writes: a line printed is a line delivered).
import { readFileSync, writeSync } from 'node:fs';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { openStoreAt } from '../../store/jetstream/location.js';
import { cutAfterSeq } from '../../store/faulty.js';
import type { DrillCall } from './plan.js';

export interface ChildJob {
  db: string;
  calls: DrillCall[];
  crash?: { afterSeq?: number; afterAck?: number; afterIntent?: number };
  /** The engine's intentFirst (engine/intent.ts): each call waits for the log to be idle, so each may go intent first. */
  intentFirst?: boolean;
}

const say = (line: string) => writeSync(1, line + '\n');
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not deliverable late, but keep the type checker and any oddity honest.
  for (;;) { /* wait for the signal */ }
};

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildJob;
const log = await openStoreAt(job.db); // a LevelDB dir, or nats://…/FLEET/HOST (drill --store)
const engine = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst: job.intentFirst === true });
if (job.crash?.afterSeq !== undefined) cutAfterSeq(log, job.crash.afterSeq, die);
let call = -1;
if (job.crash?.afterIntent !== undefined) {
  // dies once the intent of that call is synced: before its record's batch is handed over (the
  // log's queue moves on to it in a later microtask than this reaction)
  const put = log.putIntentNow.bind(log);
  log.putIntentNow = (v: string) => {
    const p = put(v);
    if (p && call === job.crash!.afterIntent) void p.then(() => die());
    return p;
  };
}
say(`ready ${log.head}`);
const t0 = process.hrtime.bigint();
for (const [i, c] of job.calls.entries()) {
  // a sequential client that waits for the last write (the record after an intent is unsynced)
  if (job.intentFirst) await log.whenWritten();
  call = i;
  const r = await engine.execute(c.proc, c.command, c.args);
  say(`ack ${i} ${log.head} ${JSON.stringify(r.reply)}`);
  if (job.crash?.afterAck === i) die();
}
say(`done ${Number((process.hrtime.bigint() - t0) / 1000000n)}`);
await log.close();
