// Reopen lists over several nodes at once (issue 12: "reopen lists that reset/keep/change options
// of several nodes"): a node with part of its backing chain, each entry keeping its options,
// toggling read-only or changing one option; and two nodes exchanging their backing children.
import type { JsonObject } from '../../format.js';
import { reopenOptions, type Generator } from '../grammar.js';
import { clone, cmd, isObj, type Production } from '../production.js';
import type { ProcView } from '../world.js';

const plain = (n: string) => !/[.#]/.test(n);

/** The options a node was last given, children opened inline replaced by their names where named. */
function kept(g: Generator, p: ProcView, node: string): JsonObject {
  const known = p.options.get(node);
  const o: JsonObject = known ? clone(known) : { driver: p.driver(node) ?? 'qcow2', 'node-name': node };
  for (const edge of ['file', 'backing', 'image']) {
    if (!isObj(o[edge])) continue;
    const cur = p.child(node, edge);
    if (cur && plain(cur) && g.rng.chance(0.7)) o[edge] = cur;
  }
  return o;
}

/** [top, some of its chain]: read-only flipped on all (iotest 245's test_reopen_chain), or one changed. */
export const reopenChain: Production = (g, p, proc) => {
  const tops = p.named().filter((n) => p.chainBelow(n).some(plain));
  if (!tops.length) return undefined;
  const top = g.rng.pick(tops);
  const chain = [top, ...p.chainBelow(top).filter(plain).filter(() => g.rng.chance(0.7))];
  const r = g.rng.next();
  let options: JsonObject[];
  if (r < 0.4) {
    const ro = g.rng.chance(0.5);
    options = chain.map((n) => ({ ...kept(g, p, n), 'read-only': ro }));
  } else if (r < 0.8) {
    const changed = g.rng.int(chain.length);
    options = chain.map((n, i) => (i === changed ? reopenOptions(g, p, n) : kept(g, p, n)));
  } else {
    // reversed: the dependency order differs from the list order
    options = chain.reverse().map((n) => kept(g, p, n));
  }
  return cmd(proc, 'blockdev-reopen', { options });
};

/** Two nodes with backing children given each other's backing (or one node's backing given to both). */
export const reopenSwap: Production = (g, p, proc) => {
  const withBacking = p.named().filter((n) => { const b = p.child(n, 'backing'); return b !== undefined && plain(b); });
  if (withBacking.length < 2) return undefined;
  const a = g.rng.pick(withBacking);
  const b = g.rng.pick(withBacking.filter((n) => n !== a));
  const ba = p.child(a, 'backing')!;
  const bb = p.child(b, 'backing')!;
  const same = g.rng.chance(0.3);
  return cmd(proc, 'blockdev-reopen', {
    options: [{ ...kept(g, p, a), backing: same ? ba : bb }, { ...kept(g, p, b), backing: ba }],
  });
};

export const REOPEN_LISTS: [Production, number][] = [[reopenChain, 5], [reopenSwap, 2]];
