// Entity ids are names users choose: 'toString', 'constructor', 'valueOf' and 'hasOwnProperty'
// are well-formed QEMU node names, job ids and object ids (id_wellformed: a letter, then letters,
// digits, '-', '.', '_'). The state keeps collections as plain JSON objects, so a lookup must ask
// for an own member, or a node named 'toString' is found in every collection (Object.prototype's)
// before it exists. Image file names ('__proto__' is a legal relative file name) are ids too, so
// a write defines the member instead of assigning it (an assignment to '__proto__' would replace
// the object's prototype instead of adding an entry).
const hasOwn = Object.prototype.hasOwnProperty;

/** `o[k]` if `k` is `o`'s own member, else undefined. */
export function own<T>(o: Record<string, T> | undefined, k: string): T | undefined {
  return o !== undefined && hasOwn.call(o, k) ? o[k] : undefined;
}

/** `state[s][c][id]`, own members only at each level. */
export function ownEntry(state: Record<string, Record<string, Record<string, unknown>> | undefined> | undefined, s: string, c: string, id: string): unknown {
  const sc = own(state, s);
  const cc = sc === undefined ? undefined : own(sc, c);
  return cc === undefined ? undefined : own(cc, id);
}

/** `o[k] = v` that adds an own member for every k, '__proto__' included. */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}
