// Small driver for the aio specs: QMP commands against the model, state threaded through.
import * as assert from 'uvu/assert';
import { checkInvariants } from '../../graph/invariants.js';
import type { BdsNode, BlockBackend, Job, State } from '../../graph/types.js';
import { executeCommand } from '../../commands/model.js';

export class Session {
  state: State = {};
  constructor(readonly checkAfterEachStep = true) {}

  /** Runs a command; returns the error desc, or null on success. */
  run(cmd: string, args: Record<string, unknown> = {}): string | null {
    const r = executeCommand(this.state, 'A', cmd, args);
    this.state = r.state;
    if (this.checkAfterEachStep) assert.equal(checkInvariants(this.state), [], `invariants after ${cmd} ${JSON.stringify(args)}`);
    return 'error' in r.reply ? r.reply.error.desc : null;
  }
  ok(cmd: string, args: Record<string, unknown> = {}): void {
    const e = this.run(cmd, args);
    assert.is(e, null, `${cmd} ${JSON.stringify(args)} failed: ${e}`);
  }
  image(file: string, backing?: string): void {
    this.ok('x-blockgraph-image-create', { file, format: 'qcow2', size: '1M', ...(backing ? { backing, 'backing-format': 'qcow2' } : {}) });
  }
  qcow2(name: string, backing: string | null = null): void {
    this.ok('blockdev-add', { driver: 'qcow2', 'node-name': name, file: { driver: 'file', filename: `${name}.qcow2`, 'node-name': `${name}f` }, backing });
  }
  node(name: string): BdsNode { return (this.state.A!.nodes as Record<string, BdsNode>)[name]!; }
  ctx(name: string): string { return this.node(name).aio; }
  bbs(): BlockBackend[] { return Object.values((this.state.A?.bbs ?? {}) as Record<string, BlockBackend>); }
  job(id: string): Job { return (this.state.A!.jobs as Record<string, Job>)[id]!; }
}
