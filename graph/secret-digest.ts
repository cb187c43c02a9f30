// What the model keeps of a secret's bytes (docs/hostile.md "Secrets and the log"): a keyed,
// salted PBKDF2 digest, never the bytes. A log is an audit trail users keep: a passphrase written
// into it (object-add's `data`, an image's `secret`, the state's objects and images) would be
// readable by anyone who can read the store. Everything the model decides about a secret compares
// bytes for equality (qcrypto_block_luks_find_key's unlock, blockdev-create's key slot), so equal
// digests are enough; the digest is computed once, when the bytes come in, and replay folds the
// logged after-images (digests) without recomputing anything.
//
// The one use that needs the bytes themselves is qcrypto_secret_decrypt (a secret encrypted with
// another secret's AES key, `keyid`): the key's bytes are held in this process's memory only
// (`vault`, keyed by digest), filled when a secret is loaded by object-add; a log reopened in
// another process does not have them, and such a decrypt is then refused (secretKeyBytes).
import { pbkdf2Sync } from 'node:crypto';

/** The digest's name in the log: algorithm and parameters, so a later change is recognisable. */
export const SECRET_DIGEST_SCHEME = 'pbkdf2-sha256-10000';
const SALT = 'blockgraph secret digest v1';
const ITERATIONS = 10000;

/**
 * The secret's digest: PBKDF2-HMAC-SHA256 over the bytes (10,000 iterations, a fixed salt: the
 * same bytes must give the same digest in every log so replay and conformance stay
 * deterministic). It hides the passphrase from a reader of the log; a weak passphrase can still be
 * guessed by trying candidates against it (each guess costs the 10,000 iterations).
 */
export function secretDigest(bytes: Buffer): string {
  return `${SECRET_DIGEST_SCHEME}:${pbkdf2Sync(bytes, SALT, ITERATIONS, 32, 'sha256').toString('hex')}`;
}

/**
 * What a logged argument holding a passphrase is replaced with. Nothing derived from the text (a
 * fast hash of a weak passphrase is as good as the passphrase): the model's state holds the slow
 * digest of what it loaded, and the reply and the state's change say what the command did.
 */
export const REDACTED = '<redacted>';

const vault = new Map<string, Buffer>();

/** Keeps a loaded secret's bytes in memory (not in the state, not in the log) for `keyid` decrypts. */
export function rememberSecretBytes(digest: string, bytes: Buffer): void {
  vault.set(digest, Buffer.from(bytes));
}

/** The bytes of a secret loaded in this process, by digest. */
export function recallSecretBytes(digest: string): Buffer | undefined {
  return vault.get(digest);
}
