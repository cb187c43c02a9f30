// Frozen backing links (bdrv_freeze_backing_chain): `frozen` is a bool on the edge, set on
// every filter-or-COW link from `from` down to `to` (exclusive). The check and the freeze
// are separate passes, so a refusal changes nothing.
import { QmpError } from '../../errors/index.js';
import type { Proc } from '../proc.js';
import type { Edge } from '../types.js';
import { filterOrCowChild } from './chain.js';

function links(p: Proc, from: string, to: string | null): { parent: string; edge: Edge }[] {
  const out: { parent: string; edge: Edge }[] = [];
  let cur: string | null = from;
  for (let i = 0; cur && cur !== to && i < 100000; i++) {
    const e = filterOrCowChild(p, cur);
    if (e) out.push({ parent: cur, edge: e });
    cur = e?.child ?? null;
  }
  return out;
}

/** bdrv_is_backing_chain_frozen: the first frozen link's error, or null. */
export function chainFrozenError(p: Proc, from: string, to: string | null): string | null {
  for (const { parent, edge } of links(p, from, to)) {
    if (edge.frozen) return `Cannot change '${edge.name}' link from '${parent}' to '${edge.child}'`;
  }
  return null;
}

export function freezeChain(p: Proc, from: string, to: string | null): void {
  const frozen = chainFrozenError(p, from, to);
  if (frozen) throw new QmpError(frozen);
  const ls = links(p, from, to);
  for (const { edge } of ls) {
    if (p.node(edge.child)?.neverFreeze) throw new QmpError(`Cannot freeze '${edge.name}' link to '${edge.child}'`);
  }
  for (const { edge } of ls) p.patchEdge(edge.id, { frozen: true });
}

/** bdrv_unfreeze_backing_chain: QEMU asserts every link is frozen; we tolerate a link already gone. */
export function unfreezeChain(p: Proc, from: string, to: string | null): void {
  for (const { edge } of links(p, from, to)) if (edge.frozen) p.patchEdge(edge.id, { frozen: false });
}
