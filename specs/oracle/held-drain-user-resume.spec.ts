// A job the user paused before a held drained section began (an active commit that completed and
// waits for its finalize: graph/jobs/held-drain.ts) and resumed under it: job-resume sends nothing
// (job_resume_locked returns while the section's pause counts), and the section's end in the
// finalize's mirror_exit_common enters it (child_job_drained_end -> job_resume -> job_enter_cond):
// its JOB_STATUS_CHANGE back to running (ready from standby) comes before the commit's own
// completion events. Recorded on 7.2 and 10.0 (the same events); events are compared here, since
// the conformance score only counts them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, parseTranscript, scenarioOf, type Transcript } from '../../oracle/format.js';
import { TRANSCRIPTS_10_0_DIR, TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

const load = (dir: string, f: string): Transcript => parseTranscript(readFileSync(join(dir, f), 'utf8'));

for (const [name, back] of [['job-held-drain-user-resumed-running', 'running'], ['job-held-drain-user-resumed-ready', 'ready']] as const) {
  for (const [v, dir] of [['7.2', TRANSCRIPTS_DIR], ['10.0', TRANSCRIPTS_10_0_DIR]] as const) {
    test(`${v} ${name}: the job's '${back}' comes at the holder's finalize, each step's events as recorded`, async () => {
      const rec = load(dir, `${name}.json`);
      const fin = rec.steps.findIndex((s) => !isWaitStep(s) && s.execute === 'job-finalize');
      const first = rec.steps[fin]!.events[0] as { event: string; data?: { status?: string; id?: string } } | undefined;
      assert.equal(first?.data, { status: back, id: 'b1' }, 'the recording itself');
      const model = await runOnModel(scenarioOf(rec), undefined, { qemuVersion: v });
      rec.steps.forEach((s, i) => assert.equal(model.steps[i]!.events, s.events, `step ${i}`));
    });
  }
}

test.run();
