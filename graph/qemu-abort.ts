// A command on which QEMU itself dies (an assertion, a NULL dereference, an unlock of a lock it
// never took): the model refuses it with an error that names the abort, instead of reaching a
// state QEMU never reports. The refusal leaves the state untouched and sends no events (the
// daemon sent none before dying; `failEvents` is what commands/model.ts reports for it). Every
// such guard is listed in docs/fidelity.md (aborts) and avoided by the fuzzer (oracle/fuzz/aborts.ts).
import { QmpError } from '../errors/index.js';

export class QemuAbortRefusal extends QmpError {
  readonly failEvents: never[] = [];
  /** The QEMU function that aborts (for the audit; the text names it too). */
  readonly qemuFn: string;
  constructor(desc: string, qemuFn: string) {
    super(desc);
    this.name = 'QemuAbortRefusal';
    this.qemuFn = qemuFn;
    this.info.qemuAbort = qemuFn;
  }
}

/**
 * A command after which QEMU does not die but hangs, or leaves itself certain to hang at the next
 * wait in some AioContext (a deadlock on an AioContext lock): refused like an abort, with the
 * same guarantees (state untouched, no events); `qemuFn` names the function that goes wrong.
 */
export class QemuHangRefusal extends QemuAbortRefusal {
  constructor(desc: string, qemuFn: string) {
    super(desc, qemuFn);
    this.name = 'QemuHangRefusal';
    this.info.qemuHang = qemuFn;
  }
}
