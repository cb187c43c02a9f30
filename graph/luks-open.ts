// qcrypto_block_open of a LUKS header (crypto/block-luks.c qcrypto_block_luks_open, QEMU 7.2 and
// 10.0): for the luks driver (block_crypto_open_generic, prefix "") over its file child, and for
// a qcow2 image whose header says QCOW_CRYPT_LUKS (qcow2_read_extensions' CRYPTO header
// extension, prefix "encrypt."). Its order: the key-secret option, the secret
// (qcrypto_secret_lookup_as_utf8), the header (qcrypto_block_luks_load_header: the magic), then
// each active key slot tried with the passphrase.
import { QmpError } from '../errors/index.js';
import { probeHeader, type DebugStore, type ReadView } from './read.js';
import type { Proc } from './proc.js';
import { secretLookupUtf8 } from './secrets.js';
import type { Image } from './types.js';
import { luksSlots } from './luks.js';

/** The passphrase checks of qcrypto_block_luks_open: returns its digest. */
function luksPassword(p: Proc, keySecret: unknown, prefix: string): string {
  // (BDRV_O_NO_IO skips both: no modelled open sets it)
  if (keySecret === undefined || keySecret === null) throw new QmpError(`Parameter '${prefix}key-secret' is required for cipher`);
  return secretLookupUtf8(p, String(keySecret));
}

/**
 * qcrypto_block_luks_find_key: each active key slot in turn (qcrypto_block_luks_load_key) until
 * one opens with the passphrase; none: every slot failed.
 */
export function luksUnlock(img: Image, password: string): void {
  if (!img.luks || !luksSlots(img.luks).includes(password)) throw new QmpError('Invalid password, cannot unlock any keyslot');
}

/**
 * The luks driver's open: the header read from `file` (or, `detached`, from 10.0's `header`
 * child: QCRYPTO_BLOCK_OPEN_DETACHED); returns the payload offset (qcrypto_block_get_payload_offset).
 */
export function luksOpen(p: Proc, file: string, keySecret: unknown, prefix: string, commit?: DebugStore['set'], detached = false): number {
  const password = luksPassword(p, keySecret, prefix);
  // qcrypto_block_luks_load_header → block_crypto_read_func: bdrv_pread(crypto->header ?: bs->file, 0, …)
  const head = probeHeader(p as ReadView, file, commit);
  if ('errno' in head) throw new QmpError(`Could not read encryption header: ${head.errno}`);
  const img = 'image' in head ? head.image : undefined;
  // QCRYPTO_BLOCK_LUKS_MAGIC "LUKS\xBA\xBE": only what qemu-img / blockdev-create made as luks
  if (!img || img.format !== 'luks' || !img.luks) throw new QmpError('Volume is not in LUKS format');
  // qcrypto_block_luks_check_header: a header created detached has payload_offset_sector 0,
  // which overlaps the header unless it is opened detached
  if (!detached && img.luks.payloadOffset < LUKS_HEADER_BYTES) throw new QmpError('LUKS payload is overlapping with the header');
  luksUnlock(img, password);
  return img.luks.payloadOffset;
}

/** QCRYPTO_BLOCK_LUKS_KEY_SLOT_OFFSET: the partition header's bytes (payload_offset_sector's lower bound) */
const LUKS_HEADER_BYTES = 4096;

/** qcow2_read_extensions' QCOW2_EXT_MAGIC_CRYPTO_HEADER: qcrypto_block_open with "encrypt." */
export function qcow2LuksOpen(p: Proc, img: Image, keySecret: unknown): void {
  const password = luksPassword(p, keySecret, 'encrypt.');
  luksUnlock(img, password);
}
