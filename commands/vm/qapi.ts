// A small QAPI argument check for the vm target's commands, which are not in the QSD schema table
// (commands/schema is qemu-storage-daemon's): members visited in schema order with QEMU's texts
// (qobject-input-visitor.c), leftovers reported after all members.
import { QmpError } from '../../errors/index.js';
import { unexpectedKeyOrder } from '../schema/ghash.js';

export type Member = [name: string, required: boolean, type: 'str' | 'bool' | 'int' | 'enum' | 'strList', values?: readonly string[]];

const TYPE_NAME = { str: 'string', bool: 'boolean', int: 'integer', enum: 'string', strList: 'array' } as const;

export function checkArgs(args: Record<string, unknown>, members: readonly Member[]): void {
  for (const [name, required, type, values] of members) {
    const v = args[name];
    if (v === undefined) {
      if (required) throw new QmpError(`Parameter '${name}' is missing`);
      continue;
    }
    if (type === 'strList' && Array.isArray(v)) {
      // qobject_input_start_list, then each element's qobject_input_type_str ("NAME[i]")
      const i = v.findIndex((x) => typeof x !== 'string');
      if (i >= 0) throw new QmpError(`Invalid parameter type for '${name}[${i}]', expected: string`);
      continue;
    }
    const ok = type === 'str' || type === 'enum' ? typeof v === 'string'
      : type === 'bool' ? typeof v === 'boolean'
        : typeof v === 'number' && Number.isInteger(v);
    if (!ok) throw new QmpError(`Invalid parameter type for '${name}', expected: ${TYPE_NAME[type]}`);
    if (type === 'enum' && values && !values.includes(v as string)) throw new QmpError(`Parameter '${name}' does not accept value '${String(v)}'`);
  }
  // qobject_input_check_struct: the first leftover its GHashTable iterator yields (the order of
  // glib's table, filled in the QDict's bucket order, the visited members removed), not the request's
  if (!Object.keys(args).some((k) => !members.some(([n]) => n === k))) return;
  const consumed = members.map(([n]) => n).filter((n) => n in args);
  throw new QmpError(`Parameter '${unexpectedKeyOrder(Object.keys(args), consumed)[0]!}' is unexpected`);
}
