// query-named-block-nodes reports bs->filename: for a node without a plain name, the json:{…}
// pseudo-filename bdrv_refresh_filename builds (QDict member order and all). The state keeps ""
// for those (graph/filename.ts); the query renders them (commands/queries.ts). Before, `file` and
// `image.filename` were "" where QEMU names the node, which QEMU's own clients and libvirt read.
// Expected names: qemu-storage-daemon 7.2.22's answer to the same commands (2026-12-03; the model's
// x-blockgraph-image-create stands for qemu-img create).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openMemory } from '../../store/index.js';

const COMMANDS: { execute: string; arguments?: Record<string, unknown> }[] = [
  {
    "execute": "x-blockgraph-image-create",
    "arguments": {
      "file": "base.qcow2",
      "format": "qcow2",
      "size": "16M"
    }
  },
  {
    "execute": "x-blockgraph-image-create",
    "arguments": {
      "file": "top.qcow2",
      "format": "qcow2",
      "size": "16M",
      "backing": "base.qcow2",
      "backing-format": "qcow2"
    }
  },
  {
    "execute": "x-blockgraph-image-create",
    "arguments": {
      "file": "r.raw",
      "format": "raw",
      "size": "4M"
    }
  },
  {
    "execute": "object-add",
    "arguments": {
      "qom-type": "throttle-group",
      "id": "tg",
      "limits": {
        "iops-total": 1000
      }
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "null-co",
      "node-name": "a",
      "size": 1048576
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "null-co",
      "node-name": "c",
      "read-zeroes": true
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "throttle",
      "node-name": "t",
      "throttle-group": "tg",
      "file": "a"
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "raw",
      "node-name": "r",
      "offset": 512,
      "size": 1024,
      "file": {
        "driver": "file",
        "filename": "r.raw"
      }
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "qcow2",
      "node-name": "q",
      "file": {
        "driver": "file",
        "filename": "top.qcow2"
      }
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "copy-on-read",
      "node-name": "cor",
      "file": "q"
    }
  },
  {
    "execute": "blockdev-add",
    "arguments": {
      "driver": "blkdebug",
      "node-name": "bd",
      "image": "c",
      "inject-error": [
        {
          "event": "read_aio"
        }
      ]
    }
  }
];

const QSD: Record<string, string> = {
  "bd": "json:{\"image\": {\"read-zeroes\": true, \"driver\": \"null-co\"}, \"driver\": \"blkdebug\", \"inject-error.0.event\": \"read_aio\"}",
  "cor": "json:{\"driver\": \"copy-on-read\", \"file\": {\"driver\": \"qcow2\", \"file\": {\"driver\": \"file\", \"filename\": \"top.qcow2\"}}}",
  "q": "top.qcow2",
  "r": "json:{\"offset\": 512, \"driver\": \"raw\", \"size\": 1024, \"file\": {\"driver\": \"file\", \"filename\": \"r.raw\"}}",
  "t": "json:{\"throttle-group\": \"tg\", \"driver\": \"throttle\", \"file\": {\"driver\": \"null-co\", \"size\": 1048576}}",
  "c": "json:{\"read-zeroes\": true, \"driver\": \"null-co\"}",
  "a": "json:{\"driver\": \"null-co\", \"size\": 1048576}"
};

test('json: pseudo-filenames as QSD 7.2 reports them', async () => {
  const e = await Engine.open(await openMemory());
  for (const c of COMMANDS) assert.ok('return' in (await e.execute('A', c.execute, c.arguments ?? {})).reply, c.execute);
  const r = (await e.execute('A', 'query-named-block-nodes', { flat: true })).reply as { return: { 'node-name': string; file: string; image: { filename: string } }[] };
  for (const [name, file] of Object.entries(QSD)) {
    const n = r.return.find((x) => x['node-name'] === name)!;
    assert.is(n.file, file, name);
    assert.is(n.image.filename, file, name);
  }
});

test.run();
