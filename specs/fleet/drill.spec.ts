// A crash drill on the JetStream backend: the same drill as specs/drill (a SIGKILLed child per
// crash point, recovery checked against the reference run), each child's store a host of the
// fleet stream instead of a LevelDB dir. Sampled (every 8th point) to stay quick.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScenario } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { drillScenario } from '../../replay/drill.js';
import { listHosts } from '../../store/jetstream/fleet.js';
import { runCli } from '../render/helpers.js';
import { clusterForFile, natsAvailable, SKIP_NOTE } from './cluster.js';

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('fleet/drill');
  const test = suite('fleet/drill');

  test('drill --store: SIGKILLed children on fleet hosts recover to the before- or after-state', async () => {
    const c = await cluster.get();
    const scenario = parseScenario(readFileSync(join(TRANSCRIPTS_DIR, 'add-del-basic.json'), 'utf8'), 'add-del-basic');
    const r = await drillScenario(scenario, { store: c.url('drill'), every: 4, jobs: 2 }); // 10 crash points: one record per operation (events/whole.ts)
    assert.ok(r.points >= 3, `points ${r.points}`);
    assert.is(r.sigkills, r.points, 'every child died by SIGKILL');
    assert.equal(r.failures, []);
    const hosts = await listHosts(c.url('drill'));
    assert.is(hosts.length, r.points, 'each child wrote its own host in the fleet');
    assert.ok(hosts.every((h) => h.messages > 0));
  });

  test('drill --store takes a fleet URL only', async () => {
    const c = await cluster.get();
    const r = await runCli('drill', join(TRANSCRIPTS_DIR, 'add-del-basic.json'), '--store', c.url('drill', 'one'));
    assert.is(r.status, 2);
    assert.match(r.stderr, /names the fleet only/);
  });

  test.run();
  cluster.closing();
}
