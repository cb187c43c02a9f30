// A VM QEMU refuses to start (stop 43, oracle/start-refused.ts): the recorder writes the refusal as
// the scenario's first step and runs nothing after it; the model's machine refusal is written the
// same way. The texts are what qemu-system-x86_64 7.2.22 printed for these command lines
// (oracle/transcripts/vm/vm-q-scsi-orphans-pc.json, vm-q-pflash-invalid-size.json).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTranscript, printTranscript, runOnModel, runScenario, scenarioOf } from '../../oracle/index.js';
import { VmStartRefused } from '../../oracle/start-refused.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VM_TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import type { Scenario } from '../../oracle/format.js';

const load = (f: string) => parseTranscript(readFileSync(join(VM_TRANSCRIPTS_DIR, f), 'utf8'));

test('the recorder: a process that exits before QMP is the first step (class exit N, stderr, the directory stripped); later steps are not run', async () => {
  const scenario: Scenario = {
    name: 'x', description: 'x', covers: ['x'], images: [], vm: { version: 1, drives: ['file=a.raw,if=scsi'] },
    steps: [{ execute: 'query-status' }, { execute: 'query-block' }],
  };
  let opened = 0;
  const t = await runScenario(scenario, async () => {
    opened++;
    throw new VmStartRefused(1, 'qemu-system-x86_64: -drive file=/tmp/d1/a.raw,if=scsi: machine type does not support if=scsi,bus=0,unit=0\n', '7.2.22 (Debian x)');
  }, { dir: '/tmp/d1' });
  assert.is(opened, 1);
  assert.is(t.qemu, '7.2.22 (Debian x)');
  assert.equal(t.steps, [{
    proc: 'A', execute: 'query-status', arguments: {},
    result: { ok: false, class: 'exit 1', desc: 'qemu-system-x86_64: -drive file=a.raw,if=scsi: machine type does not support if=scsi,bus=0,unit=0' },
    events: [],
  }]);
  // it prints and parses as any transcript
  assert.equal(parseTranscript(printTranscript(t)).steps, t.steps);
});

test('the model: a refused machine is the same one step, with every line QEMU printed (each orphan at its -drive; error and info)', async () => {
  for (const f of ['vm-q-scsi-orphans-pc.json', 'vm-q-pflash-invalid-size.json']) {
    const expected = load(f);
    const got = await runOnModel(scenarioOf(expected));
    assert.equal(got.steps, expected.steps, f);
  }
});

test('the model: a machine QEMU starts is not a refusal', async () => {
  const expected = load('vm-q-pflash-drive-q35.json');
  const got = await runOnModel(scenarioOf(expected));
  assert.is(got.steps.length, expected.steps.length);
  assert.ok(got.steps.every((s) => 'wait' in s || s.result.ok || !s.result.class.startsWith('exit')));
});

test.run();
