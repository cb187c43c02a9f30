// Records the iotests port (oracle/scenarios/iotests/*.json, or those named) on the live
// qemu-storage-daemon into oracle/transcripts/iotests/, in one process. A scenario whose
// recording fails (daemon abort, wait timeout) is reported and not written.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseScenario, printTranscript, runScenario } from '../oracle/index.js';
import { onHostOf, recordingRoot } from '../oracle/image-root.js';
import { makeOwnedDirSync, removeOwnedSync } from '../oracle/temp-dirs.js';
import { createImagesWithQemuImg, spawnQsd } from '../oracle/qsd.js';

const SRC = 'oracle/scenarios/iotests';
// --out DIR records elsewhere (e.g. to check that a second recording gives the same bytes)
const argv = process.argv.slice(2);
const outAt = argv.indexOf('--out');
const DST = outAt >= 0 ? argv[outAt + 1]! : 'oracle/transcripts/iotests';
const args = outAt >= 0 ? argv.filter((_, i) => i !== outAt && i !== outAt + 1) : argv;
const files = args.length ? args : readdirSync(SRC).filter((f) => f.endsWith('.json')).sort().map((f) => join(SRC, f));
let failed = 0;
for (const f of files) {
  const scenario = parseScenario(readFileSync(f, 'utf8'), f);
  const root = recordingRoot(scenario);
  const dir = makeOwnedDirSync(root, 'bg-iotests');
  try {
    await createImagesWithQemuImg(scenario, dir);
    const t = await runScenario(onHostOf(scenario, root), (proc) => spawnQsd(dir, { label: proc }), { dir });
    writeFileSync(join(DST, basename(f)), printTranscript(t));
    console.log(`ok ${basename(f)} (${t.steps.length} steps)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${basename(f)}: ${(e as Error).message.split(dir).join('.').slice(0, 400)}`);
  } finally {
    removeOwnedSync(dir);
  }
}
process.exitCode = failed ? 1 : 0;
