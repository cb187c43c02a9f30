// bdrv_open_inherit's last check (block.c): an option no driver took is left in the QDict, and
// the open fails naming the first one — "Block format 'raw' does not support the option 'foo'"
// (a protocol node: "Block protocol 'file' doesn't support the option 'foo'"). Options reach it
// only through QemuOpts (-drive, drive_add): blockdev-add's QAPI refuses unknown members before.
// A top-level option counts as taken when it is a member of BlockdevOptions' base or of the
// driver's variant (the options each driver's runtime QemuOptsList reads, as the schema lists
// them), or the prefix of a child's dotted options.
import { QmpError } from '../../errors/index.js';
import { TYPES } from '../schema/table.js';
import type { TypeDef } from '../schema/types.js';

function members(t: string | undefined): string[] {
  const def = t ? (TYPES as Record<string, TypeDef | undefined>)[t] : undefined;
  if (!def || typeof def !== 'object' || !('data' in def)) return [];
  const d = def as { data: Record<string, string>; base?: string };
  return [...members(d.base), ...Object.keys(d.data).map((k) => k.replace(/^\*/, ''))];
}

/** The first option of `o` (a flat QDict in insertion order) the node's driver does not take, if any. */
export function refuseLeftoverOption(o: Record<string, unknown>, protocol: boolean): void {
  const driver = String(o.driver);
  const top = TYPES.BlockdevOptions as unknown as { data: Record<string, string>; cases: Record<string, string> };
  // a driver the schema does not list is left to the open
  if (top.cases[driver] === undefined) return;
  const taken = new Set([...Object.keys(top.data).map((k) => k.replace(/^\*/, '')), ...members(top.cases[driver])]);
  for (const k of Object.keys(o)) {
    const head = k.split('.')[0]!;
    if (taken.has(head)) continue;
    throw new QmpError(protocol ? `Block protocol '${driver}' doesn't support the option '${k}'` : `Block format '${driver}' does not support the option '${k}'`);
  }
}
