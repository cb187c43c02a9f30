// From a parsed JSON value to a QMP request, as qmp_dispatch() and qmp_dispatch_check_obj()
// (qapi/qmp-dispatch.c) check it: members are visited in QDict iteration order, so with several
// faults the one QEMU reports is the one its hash table yields first.
import { qdictOrder } from '../commands/schema/ghash.js';
import type { QmpErrorBody } from '../commands/protocol.js';
import type { JsonValue } from './json-reader.js';

export interface QmpRequest { execute: string; arguments: Record<string, unknown>; id?: unknown; oob: boolean }
export type Decoded = { kind: 'request'; request: QmpRequest } | { kind: 'error'; error: QmpErrorBody; id?: unknown };

const generic = (desc: string): QmpErrorBody => ({ class: 'GenericError', desc });
const isDict = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `allowOob`: the client enabled the oob capability (qmp_oob_enabled()), so exec-oob is a member. */
export function decodeRequest(v: JsonValue, allowOob: boolean): Decoded {
  if (!isDict(v)) return { kind: 'error', error: generic('QMP input must be a JSON object') };
  const has = (k: string) => Object.prototype.hasOwnProperty.call(v, k);
  const withId = (error: QmpErrorBody): Decoded => (has('id') ? { kind: 'error', error, id: v.id } : { kind: 'error', error });
  let execKey: string | undefined;
  for (const k of qdictOrder(Object.keys(v))) {
    const x = v[k];
    if (k === 'execute' || (k === 'exec-oob' && allowOob)) {
      if (typeof x !== 'string') return withId(generic(`QMP input member '${k}' must be a string`));
      if (execKey) return withId(generic(`QMP input member '${k}' clashes with '${execKey}'`));
      execKey = k;
    } else if (k === 'arguments') {
      if (!isDict(x)) return withId(generic("QMP input member 'arguments' must be an object"));
    } else if (k !== 'id') {
      return withId(generic(`QMP input member '${k}' is unexpected`));
    }
  }
  if (!execKey) return withId(generic("QMP input lacks member 'execute'"));
  const request: QmpRequest = {
    execute: v[execKey] as string, arguments: (has('arguments') ? v.arguments : {}) as Record<string, unknown>, oob: execKey === 'exec-oob',
  };
  if (has('id')) request.id = v.id;
  return { kind: 'request', request };
}
