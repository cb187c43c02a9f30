// One readable name for each thing the views show, so `show`, `diff`, `audit`, `history`,
// `render` and `report` all call a BlockBackend the same. QEMU's job and export BlockBackends
// are anonymous: x-debug-query-block-graph gives them an empty name and
// blk_root_get_parent_desc (block/block-backend.c) calls each "an unnamed block device", with
// a TODO to ask the owner. We do what that TODO asks: `blk(OWNER)`, after QEMU's own field
// names (exp->blk, job->blk, commit's base/top BlockBackends, mirror's target), e.g.
// `blk(export e0)`, `blk(job j0 commit-base)`. Pure; no state access beyond what it is given.
import type { BlockBackend, ParentRef, State } from '../graph/types.js';

export type BbOwner = BlockBackend['owner'];

export function blockBackendName(owner: BbOwner | undefined, id: string): string {
  if (!owner) return `blk(${id})`;
  if (owner.kind === 'tmp') return `blk(${owner.id})`;
  // vm target: an empty CD-ROM's own BlockBackend that qdev never freed (QEMU leak, docs/vm.md)
  // QEMU 7.2's stream_start fail path never unrefs the job's BlockBackend (graph/jobs/stream.ts)
  if (owner.kind === 'leak') return owner.role ? `blk(LEAKED by ${owner.role} job ${owner.id})` : `blk(LEAKED by device ${owner.id})`;
  return `blk(${owner.kind} ${owner.id}${owner.role ? ` ${owner.role}` : ''})`;
}

/** Where a name for a BlockBackend id comes from: a state, or owners learnt from a log. */
export type BbNamer = (scope: string, id: string) => string;

export const namerOfState = (...states: State[]): BbNamer => (scope, id) => {
  for (const s of states) {
    const b = s[scope]?.bbs?.[id] as BlockBackend | undefined;
    if (b) return blockBackendName(b.owner, id);
  }
  return blockBackendName(undefined, id);
};

/** Owners learnt while reading a log in order (a BlockBackend's owner never changes). */
export class BbOwners {
  private readonly owners = new Map<string, BbOwner>();
  learn(scope: string, id: string, image: unknown): void {
    const owner = (image as BlockBackend | null)?.owner;
    if (owner) this.owners.set(`${scope}\0${id}`, owner);
  }
  readonly name: BbNamer = (scope, id) => blockBackendName(this.owners.get(`${scope}\0${id}`), id);
  knows(scope: string, id: string): boolean { return this.owners.has(`${scope}\0${id}`); }
}

export const plainNamer: BbNamer = (_scope, id) => blockBackendName(undefined, id);

/** A parent as the views print it: the node name, `blk(…)`, or `job ID`. */
export function parentName(scope: string, p: ParentRef | undefined, bb: BbNamer = plainNamer): string {
  if (!p) return '?';
  return p.kind === 'node' ? p.node : p.kind === 'bb' ? bb(scope, p.bb) : `job ${p.job}`;
}
