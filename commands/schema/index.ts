// QAPI argument validation as QEMU 7.2's QMP dispatcher does it (qmp-dispatch.c, the generated
// qapi-visit code, qobject-input-visitor.c, qapi-visit-core.c): the first error wins, members are
// visited in schema order, and a struct's leftover keys are reported only after all its members.
// Texts differ on purpose where QEMU's do: most errors name the full path ("options[0].file"), but
// enum values, integer ranges and alternates name only the member ("driver"), or "null" in a list.
import { COMMANDS, TYPES } from './table.js';
import { COMMANDS_10_0, TYPES_10_0 } from './table-10.0.js';
import type { TypeDef } from './types.js';
import { unexpectedKeyOrder } from './ghash.js';
import { isIntegralFloat } from './float-marks.js';


export type ValidationResult = { ok: true; value: any } | { ok: false; class: string; desc: string };

export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);
const COMMANDS_7_2 = COMMANDS, TYPES_7_2 = TYPES;
/** Which QEMU's QAPI schema a process validates with (graph/rules.ts 'qapi-schema'). */
export type QapiSchema = '7.2' | '10.0';

class QapiError extends Error {}

type Frame =
  | { dict: Record<string, unknown>; name: string | null; left: Set<string>; keys: string[]; consumed: string[] }
  | { list: unknown[]; name: string | null; index: number };

type TypeRef = string | readonly [string];

const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n, UINT64_MAX = 2n ** 64n - 1n;
const RANGES: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n], int16: [-32768n, 32767n], int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint8: [0n, 255n], uint16: [0n, 65535n], uint32: [0n, 2n ** 32n - 1n],
};

/** How QEMU's JSON parser would have stored a number: int64, else uint64, else double. */
function qnum(v: unknown): { int: bigint } | { uint: bigint } | 'double' | undefined {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) return 'double';
    b = BigInt(v);
  } else return undefined;
  if (b >= INT64_MIN && b <= INT64_MAX) return { int: b };
  if (b > INT64_MAX && b <= UINT64_MAX) return { uint: b };
  return 'double';
}

const SCALAR_NAMES = { str: 'string', bool: 'boolean', null: 'null' } as const;

const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON kind an alternate dispatches on (QEMU's QType). */
function qtype(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number' || typeof v === 'bigint') return 'num';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  return isDict(v) ? 'dict' : 'none';
}

function kindOf(t: TypeRef, TYPES: Record<string, TypeDef>): string {
  if (typeof t !== 'string') return 'list';
  switch (t) {
    case 'str': return 'str';
    case 'bool': return 'bool';
    case 'null': return 'null';
    case 'any': return 'any';
  }
  if (t in RANGES || t === 'int' || t === 'uint64' || t === 'number') return 'num';
  const d = TYPES[t];
  if (!d) throw new Error(`qapi table: unknown type ${t}`);
  return 'enum' in d ? 'str' : 'alternate' in d ? 'alternate' : 'dict';
}

/**
 * A type's members in the table's order, their `*` prefix read once per type instead of an
 * Object.entries array, its pairs and a slice per member on every command (issue 15).
 */
const memberLists = new Map<object, readonly { m: string; optional: boolean; mt: TypeRef }[]>();
function memberList(data: Record<string, TypeRef>): readonly { m: string; optional: boolean; mt: TypeRef }[] {
  let l = memberLists.get(data);
  if (!l) {
    l = Object.entries(data).map(([key, mt]) => (key.startsWith('*') ? { m: key.slice(1), optional: true, mt } : { m: key, optional: false, mt }));
    memberLists.set(data, l);
  }
  return l;
}

class InputVisitor {
  private stack: Frame[] = [];

  constructor(root: Record<string, unknown>, private readonly TYPES: Record<string, TypeDef>) {
    this.push({ dict: root, name: null, left: new Set(), keys: [], consumed: [] }, root);
  }

  private push(f: Frame, v: unknown) {
    if ('dict' in f) for (const k of Object.keys(v as object)) if ((v as any)[k] !== undefined) { f.left.add(k); f.keys.push(k); }
    this.stack.push(f);
  }

  private fail(desc: string): never { throw new QapiError(desc); }

  /** full_name_nth(): the path of member `name` of the innermost container. */
  fullName(name: string | null): string {
    let s = '';
    let n = name;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const f = this.stack[i]!;
      s = 'dict' in f ? '.' + (n ?? '<anonymous>') + s : `[${f.index}]` + s;
      n = f.name;
    }
    if (n !== null) return n + s;
    if (s.startsWith('.')) return s.slice(1);
    return s || '<anonymous>';
  }

  private top(): Frame { return this.stack[this.stack.length - 1]!; }

  present(name: string): boolean {
    const f = this.top();
    return 'dict' in f && Object.prototype.hasOwnProperty.call(f.dict, name) && f.dict[name] !== undefined;
  }

  /** qobject_input_get_object(): the value, or "missing"; `consume` marks a dict key as visited. */
  get(name: string | null, consume: boolean): unknown {
    const f = this.top();
    if ('dict' in f) {
      if (!this.present(name!)) this.fail(`Parameter '${this.fullName(name)}' is missing`);
      if (consume && f.left.delete(name!)) f.consumed.push(name!);
      return f.dict[name!];
    }
    return f.list[f.index];
  }

  /** The member about to be visited was a JSON float token (a double QNum), whatever its value. */
  private wasFloat(name: string | null): boolean {
    const f = this.top();
    return 'dict' in f ? isIntegralFloat(f.dict, name!) : isIntegralFloat(f.list, f.index);
  }

  visit(name: string | null, t: TypeRef): unknown {
    if (typeof t !== 'string') return this.visitList(name, t[0]);
    const plain = name ?? 'null';
    switch (t) {
      case 'str': case 'bool': case 'null': {
        const v = this.get(name, true);
        if (qtype(v) !== t) this.fail(`Invalid parameter type for '${this.fullName(name)}', expected: ${SCALAR_NAMES[t]}`);
        return v;
      }
      case 'any': return this.get(name, true);
      case 'number': {
        const v = this.get(name, true);
        if (qnum(v) === undefined) this.fail(`Invalid parameter type for '${this.fullName(name)}', expected: number`);
        return v;
      }
    }
    if (t === 'int' || (t in RANGES && t.startsWith('int'))) {
      const v = this.get(name, true);
      const q = this.wasFloat(name) ? 'double' : qnum(v);
      if (!q || q === 'double' || !('int' in q)) this.fail(`Invalid parameter type for '${this.fullName(name)}', expected: integer`);
      const r = RANGES[t];
      if (r && (q.int < r[0] || q.int > r[1])) this.fail(`Parameter '${plain}' expects ${t}_t`);
      return v;
    }
    if (t === 'uint64' || t in RANGES) {
      const v = this.get(name, true);
      const q = this.wasFloat(name) ? 'double' : qnum(v);
      if (!q || q === 'double') this.fail(`Parameter '${this.fullName(name)}' expects uint64`);
      // negative values are taken as their two's complement (QEMU's backward compatibility)
      const u = 'int' in q ? BigInt.asUintN(64, q.int) : q.uint;
      const r = RANGES[t];
      if (r && u > r[1]) this.fail(`Parameter '${plain}' expects ${t}_t`);
      return v;
    }
    const d: TypeDef = this.TYPES[t]!;
    if (!d) throw new Error(`qapi table: unknown type ${t}`);
    if ('enum' in d) {
      const v = this.visit(name, 'str') as string;
      if (!d.enum.includes(v)) this.fail(`Parameter '${plain}' does not accept value '${v}'`);
      return v;
    }
    if ('alternate' in d) {
      const v = this.get(name, false);
      const k = qtype(v);
      const branch = d.alternate.find((b) => kindOf(b, this.TYPES) === k);
      if (!branch) this.fail(`Invalid parameter type for '${plain}', expected: ${t}`);
      return this.visit(name, branch);
    }
    return this.visitStruct(name, t);
  }

  private visitList(name: string | null, elem: string): unknown[] {
    const v = this.get(name, true);
    if (!Array.isArray(v)) this.fail(`Invalid parameter type for '${this.fullName(name)}', expected: array`);
    const out: unknown[] = [];
    const f: Frame = { list: v, name, index: 0 };
    this.push(f, v);
    for (; f.index < v.length; f.index++) out.push(this.visit(null, elem));
    this.stack.pop();
    return out;
  }

  visitStruct(name: string | null, t: string): Record<string, unknown> {
    const v = this.get(name, true);
    if (!isDict(v)) this.fail(`Invalid parameter type for '${this.fullName(name)}', expected: object`);
    this.push({ dict: v, name, left: new Set(), keys: [], consumed: [] }, v);
    const out = this.members(t);
    this.checkStruct();
    this.stack.pop();
    return out;
  }

  /** visit_type_T_members(): base members, then the members of the tag's case. */
  members(t: string, out: Record<string, unknown> = {}): Record<string, unknown> {
    const d = this.TYPES[t];
    if (!d || !('data' in d)) throw new Error(`qapi table: ${t} is not an object type`);
    for (const { m, optional, mt } of memberList(d.data)) {
      if (optional && !this.present(m)) continue;
      out[m] = this.visit(m, mt);
    }
    if (d.tag && d.cases) {
      const c = d.cases[out[d.tag] as string];
      if (c) this.members(c, out);
    }
    return out;
  }

  /** qobject_input_check_struct(): the first leftover key in QEMU's hash-table order. */
  checkStruct() {
    const f = this.top();
    if (!('dict' in f) || !f.left.size) return;
    const first = unexpectedKeyOrder(f.keys, f.consumed)[0]!;
    this.fail(`Parameter '${this.fullName(first)}' is unexpected`);
  }
}

/**
 * Validates one command's arguments as QEMU 7.2's QMP layer would, before the command runs.
 * `args` undefined means the request had no "arguments". The value is the arguments as visited
 * (absent optional members stay absent, no defaults); an alternate keeps its JSON kind, so a
 * BlockdevRef is a string (reference) or an object (inline BlockdevOptions), BlockdevRefOrNull
 * and StrOrNull may also be null.
 */
export function validateCommand(name: string, args: unknown, schema: QapiSchema = '7.2'): ValidationResult {
  const [COMMANDS, TYPES] = schema === '10.0' ? [COMMANDS_10_0, TYPES_10_0] : [COMMANDS_7_2, TYPES_7_2];
  if (args !== undefined && !isDict(args))
    return { ok: false, class: 'GenericError', desc: "QMP input member 'arguments' must be an object" };
  const argType = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!argType) return { ok: false, class: 'CommandNotFound', desc: `The command ${name} has not been found` };
  const root = (args ?? {}) as Record<string, unknown>;
  const v = new InputVisitor(root, TYPES);
  try {
    const value = v.members(argType);
    v.checkStruct();
    return { ok: true, value };
  } catch (e) {
    if (e instanceof QapiError) return { ok: false, class: 'GenericError', desc: e.message };
    throw e;
  }
}
