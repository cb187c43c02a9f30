// query-named-block-nodes of a luks node and a LUKS-encrypted qcow2 (stop 37, wt-luks):
// bdrv_block_device_info's `encrypted` (bs->encrypted, set by block_crypto_open_generic and by
// qcow2_do_open for crypt_method LUKS), ImageInfo's `encrypted` (only where bs->encrypted), the
// luks node's virtual size (block_crypto_getlength: the file less the payload offset, 2,068,480
// for aes-256-xts) and the file nodes' lengths, and the json: file names key-secret makes
// (block_crypto_strong_runtime_opts, qcow2's encrypt.key-secret). Expected: QSD's own replies
// (--chardev stdio, 2026-12-04, images from `qemu-img create -f luks` / `-f qcow2 -o
// encrypt.format=luks` of 1 MiB), the same on 7.2.22 and 10.0.2, projected to these members.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const QSD = '[["e",true,true,1048576,"json:{\\"encrypt.key-secret\\": \\"s\\", \\"driver\\": \\"qcow2\\", \\"file\\": {\\"driver\\": \\"file\\", \\"filename\\": \\"e.qcow2\\"}}"],'
  + '["ef",false,null,2359296,"e.qcow2"],'
  + '["l",true,true,1048576,"json:{\\"driver\\": \\"luks\\", \\"file\\": {\\"driver\\": \\"file\\", \\"filename\\": \\"a.luks\\"}, \\"key-secret\\": \\"s\\"}"],'
  + '["lf",false,null,3117056,"a.luks"]]';

function projected(qemu?: string): string {
  const t = tempDir();
  try {
    const input = [
      '{"execute":"qmp_capabilities"}',
      '{"execute":"x-blockgraph-image-create","arguments":{"file":"a.luks","format":"luks","size":"1M","options":"iter-time=10","secret":"abc123"}}',
      '{"execute":"x-blockgraph-image-create","arguments":{"file":"e.qcow2","format":"qcow2","size":"1M","options":"encrypt.format=luks,encrypt.iter-time=10","secret":"abc123"}}',
      '{"execute":"object-add","arguments":{"qom-type":"secret","id":"s","data":"abc123"}}',
      '{"execute":"blockdev-add","arguments":{"driver":"luks","node-name":"l","key-secret":"s","file":{"driver":"file","filename":"a.luks","node-name":"lf"}}}',
      '{"execute":"blockdev-add","arguments":{"driver":"qcow2","node-name":"e","encrypt":{"format":"luks","key-secret":"s"},"file":{"driver":"file","filename":"e.qcow2","node-name":"ef"}}}',
      '{"execute":"query-named-block-nodes","arguments":{"flat":true},"id":2}',
    ].join('');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', `${t.dir}/db`, ...(qemu ? ['--qemu', qemu] : [])], { input, encoding: 'utf8', timeout: 60_000 });
    const line = r.stdout.split('\r\n').find((l) => l.endsWith('"id": 2}'));
    if (!line) return r.stdout + r.stderr;
    const nodes = (JSON.parse(line) as { return: { 'node-name': string; encrypted: boolean; file: string; image: { encrypted?: boolean; 'virtual-size': number } }[] }).return;
    return JSON.stringify(nodes.map((n) => [n['node-name'], n.encrypted, n.image.encrypted ?? null, n.image['virtual-size'], n.file]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  } finally {
    t.done();
  }
}

test('7.2: encrypted, sizes and json: names of a luks node and an encrypted qcow2, as QSD 7.2.22 answers', () => {
  assert.is(projected(), QSD);
});

test('10.0: the same as QSD 10.0.2 answers', () => {
  assert.is(projected('10.0'), QSD);
});

test.run();
