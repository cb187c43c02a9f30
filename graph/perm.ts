// Permission bits and names exactly as QEMU 7.2 (include/block/block-common.h).
export const PERM_R = 0x1; // consistent read
export const PERM_W = 0x2; // write
export const PERM_U = 0x4; // write unchanged
export const PERM_Z = 0x8; // resize
export const PERM_ALL = 0xf;

const MSG_NAMES = ['consistent read', 'write', 'write unchanged', 'resize'];
const QAPI_NAMES = ['consistent-read', 'write', 'write-unchanged', 'resize'];

/** As bdrv_perm_names(): "consistent read, write" in bit order. */
export function permNames(p: number): string {
  return MSG_NAMES.filter((_, i) => p & (1 << i)).join(', ');
}
/** QAPI BlockPermission names, as x-debug-query-block-graph lists them. */
export function permList(p: number): string[] {
  return QAPI_NAMES.filter((_, i) => p & (1 << i));
}
export function permFromList(names: readonly string[]): number {
  let p = 0;
  for (const n of names) {
    const i = QAPI_NAMES.indexOf(n);
    if (i >= 0) p |= 1 << i;
  }
  return p;
}
/** R/W/U/Z shorthand ("-" for none), as the reference writes permissions. */
export function permLetters(p: number): string {
  return ['R', 'W', 'U', 'Z'].filter((_, i) => p & (1 << i)).join('') || '-';
}
export const permBits = (p: number): number[] => [0, 1, 2, 3].filter((i) => p & (1 << i));

// Child roles (BdrvChildRole)
export const ROLE_DATA = 1 << 0;
export const ROLE_METADATA = 1 << 1;
export const ROLE_FILTERED = 1 << 2;
export const ROLE_COW = 1 << 3;
export const ROLE_PRIMARY = 1 << 4;
export const ROLE_IMAGE = ROLE_DATA | ROLE_METADATA | ROLE_PRIMARY;
