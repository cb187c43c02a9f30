// A command line qemu-system-x86_64 refuses (stop 43): qemu_init reports the error on stderr and
// exits before QMP is up. error_report prints the program name, then the location the error
// happened at — the command-line option being processed (loc_push_restore / qemu_opts_loc_restore:
// `-drive TEXT`, `-blockdev JSON`, `-device JSON`, `-object TEXT`), or none during machine init —
// then the message; error_report_err adds an error's hint after it. x-blockgraph-machine refuses
// with this error, class `exit N`, desc the whole stderr as printed; the oracle's recorder writes
// QEMU's own refusal in the same form (oracle/start-refused.ts).
import { QmpError, QmpErrorWithHint } from '../../errors/index.js';
import { QemuAbortRefusal } from '../../graph/qemu-abort.js';

const PROG = 'qemu-system-x86_64';

/** The error class a refused start is written with, model's and QEMU's: the process's exit status. */
export const startRefusedClass = (exitCode: number): string => `exit ${exitCode}`;

export class MachineStartError extends QmpError {
  constructor(readonly lines: string[], readonly exitCode = 1) {
    super(lines.join('\n'), startRefusedClass(exitCode));
    this.name = 'MachineStartError';
  }
}

/** One error_report line: `PROG: [LOC: ]MESSAGE`. */
export const reportLine = (loc: string | undefined, msg: string): string => `${PROG}: ${loc ? `${loc}: ` : ''}${msg}`;

/** error_report_err of `e` at `loc`: its message line, then its hint as printed (no prefix). */
export function reportedLines(loc: string | undefined, e: QmpError): string[] {
  const lines = [reportLine(loc, e.desc)];
  if (e instanceof QmpErrorWithHint) lines.push(...e.hint.replace(/\n$/, '').split('\n'));
  return lines;
}

/**
 * Runs one part of the start at location `loc`: a QEMU refusal in it (a QmpError that is not
 * blockgraph's own "not modelled") stops the machine as error_fatal does.
 */
export function atLocation<T>(loc: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MachineStartError || !(e instanceof QmpError) || e instanceof QemuAbortRefusal || e.desc.startsWith('blockgraph:')) throw e;
    throw new MachineStartError(reportedLines(loc, e));
  }
}
