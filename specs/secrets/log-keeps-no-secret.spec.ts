// A secret's text never reaches the log (docs/hostile.md "Secrets and the log"): the LevelDB
// files of a store that saw object-add of secrets (plain, base64, AES-encrypted with another
// secret's key), an encrypted image's passphrase, refused object-adds, LUKS opens and an amend
// that adds a key slot, and snapshots of its state, hold none of the passphrases in any encoding
// the model ever used (UTF-8, hex, base64); the same scan finds a plain marker the commands carry,
// so it reads what the store wrote. Replay of that log gives the state the live engine had, and a
// new engine on it still opens the image with the right secret and refuses the wrong one.
import { createCipheriv } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const PASS0 = 'Tr0ub4dor&3-luks2-slot0';
const PASS1 = 'correct-horse-luks2-slot1';
const PASS2 = 'aes-wrapped-luks2-secret';
const KEY32 = 'k'.repeat(16) + 'K'.repeat(16);
const MARKER = 'marker-image-luks2-plaintext.luks';

/** Every encoding of `s` a log could hold it in. */
const forms = (s: string) => [Buffer.from(s, 'utf8'), Buffer.from(Buffer.from(s, 'utf8').toString('hex')), Buffer.from(Buffer.from(s, 'utf8').toString('base64'))];

function filesOf(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...filesOf(p));
    else out.push(readFileSync(p));
  }
  return out;
}

test('no passphrase in the store files; replay gives the same state', async () => {
  const { dir, done } = tempDir('bg-secrets-');
  try {
    let log = await openClassic(dir);
    const e = await Engine.open(log, { snapshotEvery: 3 });
    const ok = async (cmd: string, args: Record<string, unknown>) => {
      const r = await e.execute('A', cmd, args);
      assert.ok(!('error' in r.reply), `${cmd}: ${JSON.stringify(r.reply)}`);
    };
    const refused = async (cmd: string, args: Record<string, unknown>, desc: string) => {
      const r = await e.execute('A', cmd, args);
      assert.is('error' in r.reply && r.reply.error.desc, desc);
    };
    await ok('x-blockgraph-image-create', { file: MARKER, format: 'luks', size: '1M', options: 'iter-time=10', secret: PASS0 });
    await ok('object-add', { 'qom-type': 'secret', id: 's0', data: PASS0 });
    await ok('object-add', { 'qom-type': 'secret', id: 's1', data: Buffer.from(PASS1).toString('base64'), format: 'base64' });
    await refused('object-add', { 'qom-type': 'secret', id: 's0', data: PASS1 }, "attempt to add duplicate property 's0' to object (type 'container')");
    await ok('object-add', { 'qom-type': 'secret', id: 'k32', data: KEY32 });
    // qcrypto_secret_decrypt: AES-256-CBC with k32's bytes, PKCS#7 padding
    const iv = Buffer.alloc(16, 7);
    const c = createCipheriv('aes-256-cbc', Buffer.from(KEY32), iv);
    const wrapped = Buffer.concat([c.update(PASS2, 'utf8'), c.final()]).toString('base64');
    await ok('object-add', { 'qom-type': 'secret', id: 's2', data: wrapped, format: 'base64', keyid: 'k32', iv: iv.toString('base64') });
    await ok('blockdev-add', { driver: 'file', filename: MARKER, 'node-name': 'f' });
    await ok('blockdev-add', { driver: 'luks', 'node-name': 'l', 'key-secret': 's0', file: 'f' });
    await refused('blockdev-add', { driver: 'luks', 'node-name': 'l2', 'key-secret': 's2', file: 'f' }, 'Invalid password, cannot unlock any keyslot');
    // a key slot holding s2's passphrase (the decrypted bytes)
    await ok('x-blockdev-amend', { 'job-id': 'am', 'node-name': 'l', options: { driver: 'luks', state: 'active', 'new-secret': 's2', 'iter-time': 10 } });
    await ok('x-blockgraph-job-advance', { id: 'am', status: 'concluded' });
    await ok('job-dismiss', { id: 'am' });
    await ok('blockdev-del', { 'node-name': 'l' });
    await ok('blockdev-add', { driver: 'luks', 'node-name': 'l', 'key-secret': 's2', file: 'f' });
    await ok('blockdev-del', { 'node-name': 'l' });
    const live = stateHash(e.state);
    await log.close();

    // the scan reads the store as written: the marker (an image name) is there in plain text
    const bytes = filesOf(dir);
    assert.ok(bytes.some((b) => b.includes(Buffer.from(MARKER))), 'the plain marker is in the store files');
    for (const s of [PASS0, PASS1, PASS2, KEY32]) {
      for (const f of forms(s)) assert.not.ok(bytes.some((b) => b.includes(f)), `${s} (${f.toString().slice(0, 12)}…) is in the store files`);
    }

    // replay: from the snapshots and from scratch, the live state
    log = await openClassic(dir);
    assert.is(stateHash((await replay(log)).state), live);
    assert.is(stateHash((await replay(log, { fromScratch: true })).state), live);
    // and the replayed state still tells the passphrases apart (their digests)
    const e2 = await Engine.open(log);
    const r1 = await e2.execute('A', 'blockdev-add', { driver: 'luks', 'node-name': 'l', 'key-secret': 's1', file: 'f' });
    assert.is('error' in r1.reply && r1.reply.error.desc, 'Invalid password, cannot unlock any keyslot');
    const r2 = await e2.execute('A', 'blockdev-add', { driver: 'luks', 'node-name': 'l', 'key-secret': 's0', file: 'f' });
    assert.ok(!('error' in r2.reply));
    await log.close();
  } finally {
    done();
  }
});

test('the logged arguments say <redacted> where the passphrase was', async () => {
  const { dir, done } = tempDir('bg-secrets-');
  try {
    const log = await openClassic(dir);
    const e = await Engine.open(log);
    await e.execute('A', 'object-add', { 'qom-type': 'secret', id: 's0', data: PASS0 });
    await e.execute('A', 'object-add', { 'qom-type': 'secret', id: 's0', data: PASS1 });
    const recs = await log.readAll({ gte: 1 });
    const args = recs.map((r) => (r.data as { args?: { data?: string } }).args?.data).filter((x) => x !== undefined);
    assert.equal(args, ['<redacted>', '<redacted>']);
    // the state keeps the digest, not the data
    const o = (e.state.A as unknown as { objects: Record<string, { props: Record<string, unknown>; secret?: { digest: string; length: number } }> }).objects.s0!;
    assert.is(o.props.data, undefined);
    assert.match(o.secret!.digest, /^pbkdf2-sha256-10000:[0-9a-f]{64}$/);
    assert.is(o.secret!.length, PASS0.length);
    await log.close();
  } finally {
    done();
  }
});

test.run();
