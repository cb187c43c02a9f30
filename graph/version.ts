// The QEMU version a process models. Each QEMU process (a stream of the log: "A", "B", …) is
// one qemu-storage-daemon of one version, declared when the process starts
// (`x-blockgraph-process-start {"qemu": "10.0"}`, kept in the process's meta entity) and 7.2
// when never declared, so every log written before versions existed reads as 7.2 unchanged.
// The rules that differ by version live in graph/rules.ts, one entry per rule.
import type { Proc } from './proc.js';
import type { State } from './types.js';

export const QEMU_VERSIONS = ['7.2', '10.0'] as const;
export type QemuVersion = (typeof QEMU_VERSIONS)[number];
/** The version of a process that never declared one: every log older than issue 19. */
export const DEFAULT_QEMU: QemuVersion = '7.2';

/**
 * '10.0', '10.0.2', 'v10.0', '10.0.2 (Debian …)' (a transcript's `qemu` member) → '10.0';
 * undefined for anything else (the caller says what it accepts).
 */
export function parseQemuVersion(s: unknown): QemuVersion | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:\s|$)/.exec(s.trim());
  if (!m) return undefined;
  const v = `${Number(m[1])}.${Number(m[2])}`;
  return (QEMU_VERSIONS as readonly string[]).includes(v) ? (v as QemuVersion) : undefined;
}

/** The version the process `p` models. */
export function versionOf(p: Proc): QemuVersion {
  return p.meta().qemu ?? DEFAULT_QEMU;
}

/** The same, read straight from a state (no Draft): the scope's meta entity. */
export function versionIn(state: State, proc: string): QemuVersion {
  const meta = (state[proc] as Record<string, Record<string, { qemu?: QemuVersion }>> | undefined)?.meta?.proc;
  return meta?.qemu ?? DEFAULT_QEMU;
}

/** What each version's qemu-storage-daemon says in its greeting and to query-version. */
export const QEMU_RELEASE: Record<QemuVersion, { major: number; minor: number; micro: number; package: string }> = {
  '7.2': { major: 7, minor: 2, micro: 22, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' },
  '10.0': { major: 10, minor: 0, micro: 2, package: 'Debian 1:10.0.2+ds-2+deb13u1~bpo12+1' },
};
