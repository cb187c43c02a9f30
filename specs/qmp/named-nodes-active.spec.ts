// query-named-block-nodes' BlockDeviceInfo.active (since 10.0; block/qapi.c bdrv_block_device_info:
// info->active = !bdrv_is_inactive(bs)), under the qapi-schema rule: on 10.0 every node carries
// it, false for an inactive one; 7.2 has no such member. Found in round 8 (docs/hostile.md "Stop
// 35") by QEMU 10.0's qmp-shell -p against qemu-storage-daemon 10.0.2: the model left it out.
// The expected lines are QSD's own replies (--chardev stdio, 2026-12-04), not the model's.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const QSD_10_0_2 = "{\"return\": [{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"active\": false, \"image\": {\"virtual-size\": 1073741824, \"filename\": \"null-co://\", \"format\": \"null-co\", \"actual-size\": 0}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \"b\", \"backing_file_depth\": 0, \"drv\": \"null-co\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, \"file\": \"null-co://\"}, {\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"active\": true, \"image\": {\"virtual-size\": 1073741824, \"filename\": \"null-co://\", \"format\": \"null-co\", \"actual-size\": 0}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \"a\", \"backing_file_depth\": 0, \"drv\": \"null-co\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, \"file\": \"null-co://\"}], \"id\": 2}";
const QSD_7_2_22 = "{\"return\": [{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": {\"virtual-size\": 1073741824, \"filename\": \"null-co://\", \"format\": \"null-co\", \"actual-size\": 0}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \"a\", \"backing_file_depth\": 0, \"drv\": \"null-co\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, \"file\": \"null-co://\"}], \"id\": 2}";

function reply(input: string, qemu?: string): string {
  const t = tempDir();
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', `${t.dir}/db`, ...(qemu ? ['--qemu', qemu] : [])], { input, encoding: 'latin1', timeout: 60_000 });
    return r.stdout.split('\r\n').find((l) => l.endsWith('"id": 2}')) ?? r.stdout + r.stderr;
  } finally {
    t.done();
  }
}

const NEG = '{"execute":"qmp_capabilities"}';
const QUERY = '{"execute":"query-named-block-nodes","arguments":{"flat":true},"id":2}';

test('10.0: active true, and false for a node added inactive, as QSD 10.0.2 answers', () => {
  assert.is(reply(NEG + '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"a"}}{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"b","active":false}}' + QUERY, '10.0'), QSD_10_0_2);
});

test('7.2: no active member, as QSD 7.2.22 answers', () => {
  assert.is(reply(NEG + '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"a"}}' + QUERY), QSD_7_2_22);
});

test.run();
