// The signals that ask a long-running command (qmp, qmp proxy, tail, ship --connect, drill) to
// stop cleanly. QEMU's daemons treat SIGHUP as SIGINT and SIGTERM (os-posix.c
// os_setup_signal_handling: all three go to termsig_handler, qemu_system_killed, and
// qemu-storage-daemon leaves its main loop and cleans up): a terminal or ssh session that closes
// sends SIGHUP. Node's default action for SIGHUP ends the process at once, with no `finally`:
// the QMP server left its socket file and the command in progress unanswered, a drill its temp
// stores and children.

export const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/** 128 + the signal's number: the status the shell reports for a process the signal ended. */
export function signalStatus(sig: StopSignal): number {
  return 128 + STOP_SIGNALS[sig];
}

/**
 * Calls `handler` on the first SIGHUP, SIGINT or SIGTERM (each signal once: a second one of the
 * same kind gets Node's default action, as before). Returns the function that removes the handlers.
 */
export function onStopSignal(handler: (sig: StopSignal) => void): () => void {
  const bound = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((s) => [s, () => handler(s)] as const);
  for (const [s, h] of bound) process.once(s, h);
  return () => { for (const [s, h] of bound) process.off(s, h); };
}
