// The committed list of disagreements already found and routed to a fix: for the iotests port,
// by transcript and step; for the fuzzer, by category, command and a pattern over the masked first
// message (the generator's names vary from seed to seed). Specs fail on anything not listed, and
// on an iotests entry that agrees now, so the list only shrinks as fixes land.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockgraphError } from '../../errors/index.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Finding } from './run-case.js';

export interface KnownIotest { transcript: string; step: number; category: string; differs: string; cause: string }
/** `command` and `pattern` are regular expressions (over the command name and the masked first message). */
export interface KnownFuzz { category: string; command: string; pattern: string; transcript: string; differs: string; cause: string }
export interface KnownDisagreements { iotests: KnownIotest[]; fuzz: KnownFuzz[] }

export const KNOWN_FILE = join(PACKAGE_ROOT, 'oracle', 'fuzz', 'known-disagreements.json');

export function loadKnown(file = KNOWN_FILE): KnownDisagreements {
  let v: unknown;
  try { v = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new BlockgraphError('BG_BAD_INPUT', `cannot read known disagreements ${file}: ${(e as Error).message}`);
  }
  const o = v as Partial<KnownDisagreements>;
  if (!o || !Array.isArray(o.iotests) || !Array.isArray(o.fuzz)) throw new BlockgraphError('BG_BAD_INPUT', `${file}: needs 'iotests' and 'fuzz' lists`);
  return { iotests: o.iotests, fuzz: o.fuzz };
}

/**
 * The generator's own names (every prefix of Generator.fresh: n3, f12, j0, b18, cbw5, nbd16, …) and numbers (sizes, offsets, QEMU's auto-name counters)
 * masked, so one cause has one key across seeds. The `#2`, `#3` … that oracle/normalize.ts appends
 * to a canonical name another object already took (a second BlockBackend on one node: `bb:x14#2`)
 * goes first: which one gets it depends on what else the seed put on the node, not on the cause.
 */
export const maskNames = (s: string): string =>
  s.replace(/(?<=[\w.])#\d+\b/g, '').replace(/\b(?:acc|cbw|nbd|sl|[bnfxjecsm])\d+\b/g, '·').replace(/\b\d+\b/g, 'N');

export const findingKey = (f: Finding): string => `${f.category} | ${f.command} | ${maskNames(f.message)}`;

export function matchKnown(f: Finding, known: KnownDisagreements): KnownFuzz | undefined {
  const m = maskNames(f.message);
  // `command` is a pattern too (one cause can show on several commands)
  return known.fuzz.find((k) => k.category === f.category && new RegExp(`^(?:${k.command})$`).test(f.command) && new RegExp(k.pattern).test(m));
}
