// The CLIs that start QEMU in temp directories (fuzz, qmp record): the stale sweep at their start,
// and signal handlers that end the QEMU children and remove the live directories before exit
// (oracle/temp-dirs.ts). Node's default action for SIGINT/SIGTERM/SIGHUP ends the process with no
// `finally` run: every case directory in flight stayed (with its daemons, which outlive us).
import { cleanupOwnedSync, sweepMessage, sweepStale } from '../oracle/temp-dirs.js';
import { STOP_SIGNALS, signalStatus, type StopSignal as Sig } from './stop-signals.js';

/** Sweeps the dead runs' directories under `roots`, with a warning line on stderr when it removed any. */
export function sweepAtStart(who: string, roots: string[]): void {
  const line = sweepMessage(who, sweepStale(roots));
  if (line) process.stderr.write(line + '\n');
}

/**
 * Installs SIGINT/SIGTERM/SIGHUP handlers until the returned function is called. With `graceful`,
 * the first signal calls it (the fuzzer stops after the current case, with its report) and a second
 * one ends the run at once; without, the first does. Ending at once: SIGKILL the QEMU children,
 * remove the live directories, exit 128+signal as the default action's status would say. An
 * `exit` hook does the same for any other way out (process.exit, an uncaught exception).
 */
export function cleanupOnSignals(who: string, graceful?: (sig: Sig) => void): () => void {
  let seen = 0;
  const handler = (sig: Sig) => {
    if (graceful && seen++ === 0) { graceful(sig); return; }
    const left = cleanupOwnedSync();
    process.stderr.write(`${who}: ${sig}: QEMU processes ended, temp directories removed${left.length ? ` (could not remove ${left.join(', ')})` : ''}\n`);
    process.exit(signalStatus(sig));
  };
  const onExit = () => { cleanupOwnedSync(); };
  const bound = (Object.keys(STOP_SIGNALS) as Sig[]).map((s) => [s, () => handler(s)] as const);
  for (const [s, h] of bound) process.on(s, h);
  process.on('exit', onExit);
  return () => {
    for (const [s, h] of bound) process.removeListener(s, h);
    process.removeListener('exit', onExit);
  };
}
