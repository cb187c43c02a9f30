// The LUKS format (crypto/block-luks.c, block/crypto.c; QEMU 7.2 and 10.0 alike for what the
// model keeps): the layout qcrypto_block_luks_create writes, and what an image in the catalogue
// keeps of it (Image.luks): each key slot's passphrase digest (graph/secret-digest.ts; never the
// passphrase) and the payload offset the driver's length is measured from.
import { QmpError } from '../errors/index.js';
import { secretDigest } from './secret-digest.js';
import type { LuksHeader } from './types.js';

export const QCRYPTO_BLOCK_LUKS_SECTOR_SIZE = 512;
const QCRYPTO_BLOCK_LUKS_KEY_SLOT_OFFSET = 4096;
export const QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS = 8;
const QCRYPTO_BLOCK_LUKS_STRIPES = 4000;

/** qcrypto_cipher_get_key_len of the cipher algorithms QCryptoCipherAlgorithm names. */
const KEY_LEN: Record<string, number> = {
  'aes-128': 16, 'aes-192': 24, 'aes-256': 32, 'des': 8, '3des': 24, 'cast5-128': 16,
  'serpent-128': 16, 'serpent-192': 24, 'serpent-256': 32, 'twofish-128': 16, 'twofish-192': 24, 'twofish-256': 32,
  'sm4': 16,
};

/**
 * A new header's key slots (qcrypto_block_luks_create): slot 0 holds the passphrase (its digest),
 * the other seven are inactive.
 */
export function luksHeader(passphraseDigest: string, payloadOffset: number): LuksHeader {
  return { slots: [passphraseDigest, ...Array<null>(QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS - 1).fill(null)], payloadOffset };
}

/** The 8 key slots' digests (null: inactive); a header logged before stop 38 held slot 0 as hex. */
export function luksSlots(h: LuksHeader): (string | null)[] {
  if (h.slots) return h.slots;
  const slot0 = h.keyHex !== undefined ? secretDigest(Buffer.from(h.keyHex, 'hex')) : null;
  return [slot0, ...Array<null>(QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS - 1).fill(null)];
}

/** A header with key slot `k` set to `digest` (null: erased); the legacy hex form is dropped. */
export function luksWithSlot(h: LuksHeader, k: number, digest: string | null): LuksHeader {
  const slots = [...luksSlots(h)];
  slots[k] = digest;
  const { keyHex: _k, ...rest } = h;
  return { ...rest, slots };
}

/**
 * qcrypto_block_luks_create's layout: the header's first 4096 bytes, then 8 key slots of the
 * anti-forensic split master key (master_key_len * 4000 stripes, rounded up to sectors and then
 * to the 8 header sectors: qcrypto_block_luks_splitkeylen_sectors), then the payload. The master
 * key length is the cipher's key length, twice for xts (its default mode). aes-256-xts: 2,068,480.
 */
export function luksPayloadOffset(cipherAlg = 'aes-256', cipherMode = 'xts'): number {
  const keyLen = KEY_LEN[cipherAlg];
  if (keyLen === undefined) throw new QmpError(`Algorithm '${cipherAlg}' not supported`);
  const masterKeyLen = cipherMode === 'xts' ? keyLen * 2 : keyLen;
  const headerSectors = QCRYPTO_BLOCK_LUKS_KEY_SLOT_OFFSET / QCRYPTO_BLOCK_LUKS_SECTOR_SIZE;
  const splitSectors = Math.ceil(Math.ceil(masterKeyLen * QCRYPTO_BLOCK_LUKS_STRIPES / QCRYPTO_BLOCK_LUKS_SECTOR_SIZE) / headerSectors) * headerSectors;
  return (headerSectors + QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS * splitSectors) * QCRYPTO_BLOCK_LUKS_SECTOR_SIZE;
}

/** An option of a qemu-img `-o` list (`cipher-alg=…`, `encrypt.cipher-alg=…`). */
export function imgOpt(options: string | undefined, key: string): string | undefined {
  return new RegExp(`(?:^|,)${key.replace(/\./g, '\\.')}=([^,]+)`).exec(options ?? '')?.[1];
}
