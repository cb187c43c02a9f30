// Every command step of the oracle transcripts against the QAPI layer: steps QEMU rejected with a
// QAPI-layer error must give that exact error; every other step must get past validation, since
// QEMU got past it too (its error, if any, came from the command itself).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateCommand } from '../../commands/schema/index.js';

const DIR = new URL('../../oracle/transcripts/', import.meta.url).pathname;

interface Step { proc?: string; execute?: string; arguments?: Record<string, unknown>; result?: { ok: boolean; class?: string; desc?: string } }

/** Errors raised before the command runs: qmp-dispatch.c and the input visitor. */
export function isQapiError(r: { class?: string; desc?: string }): boolean {
  // block_job_set_speed's QERR_INVALID_PARAMETER_VALUE shares the visitor's "Parameter '…'" prefix
  if (/^Parameter '[^']+' expects a non-negative value$/.test(r.desc ?? '')) return false;
  // blockdev_mirror_common's QERR_INVALID_PARAMETER_VALUE for granularity shares it too
  if (/^Parameter 'granularity' expects a value in range /.test(r.desc ?? '')) return false;
  // a driver's QemuOpts (parse_option_size: raw_read_options, blkdebug's align, null's size, qcow2's
  // cache sizes, all absorbed with qemu_opts_absorb_qdict) shares it too: their QAPI types are 'int'
  if (/^Parameter '[^']+' expects a non-negative number below 2\^64$/.test(r.desc ?? '')) return false;
  // user_creatable_add_type's QERR_INVALID_PARAMETER_VALUE for an object id (id_wellformed) shares it too
  if (/^Parameter 'id' expects an identifier$/.test(r.desc ?? '')) return false;
  // qmp_block_resize's QERR_INVALID_PARAMETER_VALUE for a negative size ("size", "a >0 size") shares it too
  if (/^Parameter 'size' expects a >0 size$/.test(r.desc ?? '')) return false;
  // qcrypto_block_luks_open / _create's error_setg for a missing key secret ("encrypt." for qcow2) shares it too
  if (/^Parameter '(encrypt\.)?key-secret' is required for cipher$/.test(r.desc ?? '')) return false;
  return r.class === 'CommandNotFound' || /^(Parameter '|Invalid parameter type for '|QMP input )/.test(r.desc ?? '');
}

/** qom-set's value is 'any': a property setter's own visit of it (visit_type_int64) shares the visitor's texts. */
function isPropertyVisit(s: Step): boolean {
  return s.execute === 'qom-set' && /^Invalid parameter type for '[^']+', expected: /.test(s.result?.desc ?? '');
}

/**
 * A driver's own QAPI visit of its options shares the visitor's texts: cbw_parse_options on a node
 * bdrv_img_create opens from a backing file name with the copy-before-write format (drive-backup or
 * drive-mirror sync top; fuzz-backup-top-cbw-backing). The command itself got past validation.
 */
function isDriverVisit(s: Step): boolean {
  return ['drive-backup', 'drive-mirror', 'transaction'].includes(s.execute ?? '') && /^Parameter '(file|target)' is missing$/.test(s.result?.desc ?? '');
}

/**
 * A second qmp_capabilities is refused by the command itself (qmp_qmp_capabilities: mon->commands ==
 * &qmp_commands), with CommandNotFound, after QAPI let its arguments through.
 */
function isNegotiated(s: Step): boolean {
  return s.execute === 'qmp_capabilities' && s.result?.desc === 'Capabilities negotiation is already complete, command ignored';
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
let checked = 0, qapi = 0;

test('the oracle transcripts are there', () => {
  assert.ok(files.length >= 64, `found ${files.length} transcripts in ${DIR}`);
});

for (const file of files) {
  const t = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { steps: Step[] };
  test(`transcript ${file}`, () => {
    t.steps.forEach((s, i) => {
      if (!s.execute || !s.result) return;
      const got = validateCommand(s.execute, s.arguments ?? {});
      const where = `${file} step ${i} (${s.execute} ${JSON.stringify(s.arguments)})`;
      checked++;
      if (!s.result.ok && isQapiError(s.result) && !((isDriverVisit(s) || isPropertyVisit(s) || isNegotiated(s)) && validateCommand(s.execute, s.arguments ?? {}).ok)) {
        qapi++;
        assert.equal(got, { ok: false, class: s.result.class, desc: s.result.desc }, where);
      } else {
        assert.ok(got.ok, `${where}: QEMU got past validation, we said ${JSON.stringify(got)}`);
      }
    });
  });
}

test('every transcript step was checked', () => {
  assert.ok(checked > 400, `checked ${checked}`);
  assert.ok(qapi >= 10, `QAPI-layer errors checked: ${qapi}`);
  console.log(`  transcripts: ${checked} command steps checked, ${qapi} of them QAPI-layer errors`);
});

test.run();
