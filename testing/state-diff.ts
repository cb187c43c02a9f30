// What changed between two states, entity by entity: the golden spec and the testing helper
// print it when a state hash or stateUnchanged() disagrees, so a failure says *what* moved.
import { canonicalJson } from '../graph/hash.js';
import type { State } from '../graph/types.js';

const show = (v: unknown): string => {
  const s = canonicalJson(v);
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
};

/** One line per added, removed or changed entity (changed: one clause per differing field). */
export function diffStates(before: State, after: State): string[] {
  const out: string[] = [];
  const keys = (a: object | undefined, b: object | undefined) => [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  for (const s of keys(before, after)) {
    for (const c of keys(before[s], after[s])) {
      const A = before[s]?.[c] ?? {};
      const B = after[s]?.[c] ?? {};
      for (const id of keys(A, B)) {
        const x = A[id] as Record<string, unknown> | undefined;
        const y = B[id] as Record<string, unknown> | undefined;
        const where = `${s}.${c}.${id}`;
        if (x === undefined) out.push(`+ ${where} ${show(y)}`);
        else if (y === undefined) out.push(`- ${where} ${show(x)}`);
        else if (canonicalJson(x) !== canonicalJson(y)) {
          const isRec = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
          if (!isRec(x) || !isRec(y)) { out.push(`~ ${where}: ${show(x)} -> ${show(y)}`); continue; }
          const fields = keys(x, y).filter((k) => canonicalJson(x[k] ?? null) !== canonicalJson(y[k] ?? null));
          out.push(`~ ${where}: ${fields.map((k) => `${k} ${show(x[k] ?? null)} -> ${show(y[k] ?? null)}`).join('; ')}`);
        }
      }
    }
  }
  return out;
}
