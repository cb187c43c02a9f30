// Issue 11's failing case: `report` on a real log of 10,500 records and 1,500 nodes ran 90 s
// and died with RangeError: Invalid string length (one page holding every picture). Now it
// streams: bounded pages, pictures only around what an entry touched. Slow (~30 s: the log
// is written through the real engine into LevelDB first).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';
import { runCli } from '../render/helpers.js';
import { writeBigLog } from './big-log.js';

test('report on 10,500 records and 1,500 nodes: paged timeline, every entry once, no giant page', async () => {
  const t = tempDir('bg-bigreport-');
  try {
    const { head, nodes, commands } = await writeBigLog(t.dir + '/db');
    assert.equal([head, nodes], [10_500, 1500]);
    const out = t.dir + '/report';
    const r = await runCli('report', '--db', t.dir + '/db', '--out', out, '--graphs', '10', '--json');
    assert.is(r.status, 0, r.stderr);
    const sum = JSON.parse(r.stdout) as { entries: number; pages: number; pictures: number };
    // one timeline entry per command (each a transaction or a refusal)
    assert.equal([sum.entries, sum.pages, sum.pictures], [commands, Math.ceil(commands / 500), 10]);
    const pages = readdirSync(out).filter((f) => f.startsWith('timeline-')).sort();
    assert.is(pages.length, sum.pages);
    let rows = 0;
    for (const p of pages) {
      const size = statSync(`${out}/${p}`).size;
      assert.ok(size < 4 << 20, `${p} is ${size} bytes`);
      rows += (readFileSync(`${out}/${p}`, 'utf8').match(/<tr class="/g) ?? []).length;
    }
    assert.is(rows, commands);
    const first = readFileSync(`${out}/${pages[0]}`, 'utf8');
    assert.ok(first.includes('<td class="cmd">blockdev-add d7</td><td class="nodes">d7</td>'), 'each add names its node');
    const index = readFileSync(`${out}/index.html`, 'utf8');
    assert.not.match(index, /<svg /, '1,500 nodes are not laid out in one picture');
    assert.match(index, /1500 nodes: more than 300/);
    assert.is(readdirSync(`${out}/entries`).length, 10);
  } finally {
    t.done();
  }
});

test.run();
