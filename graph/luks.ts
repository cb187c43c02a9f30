// The LUKS format (crypto/block-luks.c, block/crypto.c; QEMU 7.2 and 10.0 alike for what the
// model keeps): the layout qcrypto_block_luks_create writes, and what an image in the catalogue
// keeps of it (Image.luks): the passphrase's bytes (hex; the only key slot qemu-img and
// blockdev-create fill is 0) and the payload offset the driver's length is measured from.
import { QmpError } from '../errors/index.js';

export const QCRYPTO_BLOCK_LUKS_SECTOR_SIZE = 512;
const QCRYPTO_BLOCK_LUKS_KEY_SLOT_OFFSET = 4096;
const QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS = 8;
const QCRYPTO_BLOCK_LUKS_STRIPES = 4000;

/** qcrypto_cipher_get_key_len of the cipher algorithms QCryptoCipherAlgorithm names. */
const KEY_LEN: Record<string, number> = {
  'aes-128': 16, 'aes-192': 24, 'aes-256': 32, 'des': 8, '3des': 24, 'cast5-128': 16,
  'serpent-128': 16, 'serpent-192': 24, 'serpent-256': 32, 'twofish-128': 16, 'twofish-192': 24, 'twofish-256': 32,
  'sm4': 16,
};

/** What a LUKS image keeps in the catalogue. */
export interface LuksInfo {
  /** the passphrase of key slot 0 (its bytes, hex) */
  keyHex: string;
  /** header.payload_offset_sector * 512 */
  payloadOffset: number;
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
