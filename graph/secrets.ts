// QEMU's `secret` QOM objects (crypto/secret_common.c, crypto/secret.c; the same on 7.2 and
// 10.0): what object-add's .complete loads and decodes, and qcrypto_secret_lookup, which the luks
// driver, an encrypted qcow2 and blockdev-create ask for a passphrase. A secret's bytes are never
// kept in the state (nor in the log): only their digest, length and UTF-8 validity
// (QomObject.secret, graph/secret-digest.ts); passphrases are compared by digest.
import { createDecipheriv } from 'node:crypto';
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';
import { hostResolve } from './host-path.js';
import type { SecretFacts } from './types.js';
import { recallSecretBytes, rememberSecretBytes, secretDigest } from './secret-digest.js';

/** util/base64.c base64_valid_chars */
const BASE64_VALID = /^[A-Za-z0-9+/=\n]*$/;

/** qbase64_decode: only the character set is checked, then g_base64_decode (lenient) */
export function qbase64Decode(s: string): Buffer {
  if (!BASE64_VALID.test(s)) throw new QmpError('Base64 data contains invalid characters');
  return gBase64Decode(s);
}

/** g_base64_decode: every complete group of four characters; '=' ends the data. */
function gBase64Decode(s: string): Buffer {
  const chars = s.replace(/\n/g, '');
  const out: number[] = [];
  const val = (c: string) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(c);
  for (let i = 0; i + 4 <= chars.length; i += 4) {
    const g = chars.slice(i, i + 4);
    const v = [...g].map((c) => (c === '=' ? 0 : val(c)));
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    const pad = g.endsWith('==') ? 2 : g.endsWith('=') ? 1 : 0;
    out.push((n >> 16) & 255);
    if (pad < 2) out.push((n >> 8) & 255);
    if (pad < 1) out.push(n & 255);
    if (pad) break;
  }
  return Buffer.from(out);
}

/** The facts of loaded bytes; the bytes go to this process's memory only (secret-digest.ts). */
export function secretFacts(bytes: Buffer): SecretFacts {
  const digest = secretDigest(bytes);
  rememberSecretBytes(digest, bytes);
  // g_utf8_validate (no NUL allowed in the data before its length either)
  const utf8 = Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes) && !bytes.includes(0);
  return { digest, length: bytes.length, utf8 };
}

/**
 * qcrypto_secret_lookup: the object named `id` under /objects must be a loaded secret.
 * Returns what the model keeps of its bytes.
 */
export function secretLookup(p: Proc, id: string): SecretFacts {
  const o = p.object(id);
  if (!o) throw new QmpError(`No secret with id '${id}'`);
  if (o.qomType !== 'secret' && o.qomType !== 'secret_keyring') throw new QmpError(`Object with id '${id}' is not a secret`);
  if (o.secret !== undefined) return o.secret;
  // a log written before stop 38 kept the bytes (QomObject.secretHex)
  if (o.secretHex !== undefined) return secretFacts(Buffer.from(o.secretHex, 'hex'));
  throw new QmpError(`Secret with id '${id}' has no data`);
}

/**
 * qcrypto_secret_lookup_as_utf8: the passphrase a LUKS open, create or amend asks for. Returns its
 * digest (the model compares passphrases by digest).
 */
export function secretLookupUtf8(p: Proc, id: string): string {
  const facts = secretLookup(p, id);
  if (!facts.utf8) throw new QmpError(`Data from secret ${id} is not valid UTF-8`);
  return facts.digest;
}

/**
 * qcrypto_secret_complete (user_creatable_complete of a `secret`): load_data, then decrypt with
 * `keyid` or decode base64. Returns what the model keeps of the loaded bytes.
 */
export function secretComplete(p: Proc, props: Record<string, unknown>): SecretFacts {
  // qcrypto_secret_load_data (secret.c)
  let input: Buffer;
  if (props.file !== undefined) {
    if (props.data !== undefined) throw new QmpError("'file' and 'data' are mutually exclusive");
    const name = String(props.file);
    // g_file_get_contents, relative to the daemon's directory (the image directory): the model
    // knows which files exist there, not what a non-image file holds
    if (name.startsWith('/') || hostResolve({ d: p.d }, name) === undefined) {
      throw new QmpError(`Unable to read ${name}: Failed to open file \u201c${name}\u201d: No such file or directory`);
    }
    throw new QmpError(`blockgraph does not model a secret read from file '${name}' (its contents are not in the image catalogue)`);
  } else if (props.data !== undefined) {
    input = Buffer.from(String(props.data), 'utf8');
  } else {
    throw new QmpError("Either 'file' or 'data' must be provided");
  }
  const base64 = props.format === 'base64';
  if (props.keyid !== undefined) return secretFacts(secretDecrypt(p, props, input, base64));
  return secretFacts(base64 ? qbase64Decode(input.toString('utf8')) : input);
}

/** qcrypto_secret_decrypt: AES-256-CBC with the 32-byte key secret `keyid` and a base64 `iv`. */
function secretDecrypt(p: Proc, props: Record<string, unknown>, input: Buffer, base64: boolean): Buffer {
  const keyid = String(props.keyid);
  const keyFacts = secretLookup(p, keyid);
  if (keyFacts.length !== 32) throw new QmpError('Key should be 32 bytes in length');
  if (props.iv === undefined) throw new QmpError('IV is required to decrypt secret');
  const iv = qbase64Decode(String(props.iv));
  if (iv.length !== 16) throw new QmpError(`IV should be 16 bytes in length not ${iv.length}`);
  const cipher = base64 ? qbase64Decode(input.toString('utf8')) : input;
  // qcrypto_cipher_decrypt (the nettle/gcrypt backends): whole AES blocks only
  if (cipher.length % 16 !== 0) throw new QmpError(`Length ${cipher.length} must be a multiple of block size 16`);
  // an empty ciphertext decrypts to nothing; QEMU then reads plaintext[-1], a byte before its
  // zeroed buffer, which was 0 in the recordings (luks-secret-objects): no padding, empty secret
  if (cipher.length === 0) return Buffer.alloc(0);
  const key = secretKeyBytes(keyid, keyFacts);
  const d = createDecipheriv('aes-256-cbc', key, iv);
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(cipher), d.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad > 16 || pad > plain.length) throw new QmpError(`Incorrect number of padding bytes (${pad}) found on decrypted data`);
  return plain.subarray(0, plain.length - pad);
}

/**
 * The key's bytes for qcrypto_cipher_decrypt: only this process holds them (secret-digest.ts): a
 * secret loaded before the log was reopened is known by its digest alone.
 */
function secretKeyBytes(keyid: string, facts: SecretFacts): Buffer {
  const key = recallSecretBytes(facts.digest);
  if (key === undefined) {
    throw new QmpError(`blockgraph does not hold the bytes of secret '${keyid}' (a log keeps only their digest, docs/hostile.md): object-del and object-add it again to decrypt with it`);
  }
  return key;
}
