// A VM that does not start (stop 43): qemu-system-x86_64 refuses its command line before QMP is
// up, and the recorder keeps that refusal as the scenario's first step, so a start refusal is
// checked against QEMU like any command's. The model's machine refusal (x-blockgraph-machine's
// MachineStartError) is written in the same form.
import { BlockgraphError } from '../errors/index.js';
import type { JsonObject, TranscriptCommandStep } from './format.js';
import { normalizeString } from './normalize.js';
import { startRefusedClass } from '../commands/vm/machine-start-error.js';

/**
 * A machine QEMU refused to start: qemu_init reported why on stderr (error_report, with the
 * command-line option it was at as its location: `qemu-system-x86_64: -drive if=scsi: …`) and
 * exited (error_fatal: exit(1)) before its QMP monitor answered. The recorder writes it as the
 * scenario's first step (oracle/harness.ts startRefusedStep); `version` is `--version`'s, in the
 * form query-version gives the transcript's `qemu` member.
 */
export class VmStartRefused extends BlockgraphError {
  readonly exitCode: number;
  readonly stderr: string;
  readonly version: string;
  constructor(exitCode: number, stderr: string, version: string) {
    super('BG_QMP_ERROR', `qemu-system-x86_64 refused to start (exit ${exitCode}): ${stderr.trim()}`, { exitCode, stderr, version });
    this.name = 'VmStartRefused';
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.version = version;
  }
}

/**
 * The first step of a scenario whose machine was refused: the step as the scenario gives it, its
 * result QEMU's exit status (class) and its stderr (desc: every line, the scenario's directory
 * stripped as any error text's), no events, no graph (there is no process to ask).
 */
export function startRefusedStep(step: { proc?: string; execute: string; arguments?: JsonObject }, exitCode: number, stderr: string, dir?: string): TranscriptCommandStep {
  return {
    proc: step.proc ?? 'A', execute: step.execute, arguments: step.arguments ?? {},
    result: { ok: false, class: startRefusedClass(exitCode), desc: normalizeString(stderr.replace(/\n+$/, ''), new Map(), dir) },
    events: [],
  };
}
