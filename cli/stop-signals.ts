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

/**
 * The signals QEMU's main loop blocks (util/main-loop.c qemu_signal_init: SIG_IPI, i.e. SIGUSR1,
 * SIGIO and SIGALRM; SIGBUS too, which Node cannot safely take): a daemon sent one runs on.
 * Node's defaults were worse: SIGALRM and SIGIO ended the QMP server at once (exit 142, its
 * socket left), and SIGUSR1 opened Node's inspector on 127.0.0.1:9229, a debugger any local user
 * could attach to and run code in the server (a logrotate script's `kill -USR1` is enough). A
 * listener of their own keeps both from happening. Returns the function that removes them.
 */
export function ignoreBlockedSignals(): () => void {
  const ignore = () => undefined;
  const signals = ['SIGUSR1', 'SIGALRM', 'SIGIO'] as const;
  for (const s of signals) process.on(s, ignore);
  return () => { for (const s of signals) process.off(s, ignore); };
}
