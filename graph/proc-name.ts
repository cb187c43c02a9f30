// A process name is a scope of the state (state[proc]) and a stream of the log. It is ours, not
// QEMU's, so it is held to QEMU's own id rule (id_wellformed: a letter, then letters, digits,
// '-', '.', '_') and must not be a member of Object.prototype ('constructor', 'toString'…): a
// scope so named would be looked up on the prototype by the state's plain-object readers.
const ID = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;

/** Why `name` cannot name a process, or undefined when it can. */
export function procNameProblem(name: string): string | undefined {
  if (!ID.test(name)) return `'${name}' is not a process name: a letter, then up to 127 letters, digits, '-', '.' or '_'`;
  if (name in Object.prototype) return `'${name}' is not a process name: it is a member of JavaScript's Object.prototype`;
  return undefined;
}
