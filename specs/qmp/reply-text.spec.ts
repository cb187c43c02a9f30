// A reply with an empty return and an integer id (blockdev-add's, blockdev-del's, …) is written
// without the generic writer (qmp/session.ts replyJson; issue 15): byte for byte the text the
// generic writer gives (toQmpJson, QEMU's QDict member order), and every other reply still
// through the generic writer. Counted, never timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawJson, toQmpJson } from '../../qmp/json-writer.js';
import { replyJson, replyWork } from '../../qmp/session.js';

/** The generic writer's text for a reply (the path every reply took before). */
const generic = (r: Record<string, unknown>, id: unknown): string => {
  const body: Record<string, unknown> = 'error' in r ? { error: r.error } : { return: r.return };
  if (id !== undefined) body.id = id;
  return toQmpJson(body);
};

test('an empty return with an integer id: the generic writer\'s text, without it', () => {
  const proto = Object.create({ inherited: 1 }) as Record<string, unknown>;
  const empties: unknown[] = [{}, Object.freeze({}), Object.create(null), proto];
  const ids = [0, 1, -1, 7, 42, 1e6, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  for (const ret of empties) {
    for (const id of ids) {
      const before = replyWork.emptyReturns;
      const text = replyJson({ return: ret } as never, id);
      assert.is(replyWork.emptyReturns - before, 1, 'taken without the generic writer');
      assert.is(text, generic({ return: {} }, id), `id ${id}`);
    }
  }
  assert.is(replyJson({ return: {} } as never, 5), '{"return": {}, "id": 5}', 'as QSD writes it (tdb_hash puts "return" before "id")');
});

test('every other reply through the generic writer, with its text', () => {
  const cases: [Record<string, unknown>, unknown][] = [
    [{ return: {} }, undefined], [{ return: {} }, -0], [{ return: {} }, 1.5], [{ return: {} }, 2 ** 53], [{ return: {} }, NaN],
    [{ return: {} }, 'x'], [{ return: {} }, { a: 1 }], [{ return: {} }, [1]], [{ return: {} }, null], [{ return: {} }, 10n],
    [{ return: { a: 1 } }, 1], [{ return: { a: undefined } }, 1], [{ return: [] }, 1], [{ return: new RawJson('{"x": 1}') }, 1],
    [{ return: null }, 1], [{ return: 3 }, 1], [{ error: { class: 'GenericError', desc: 'no' } }, 1],
  ];
  for (const [r, id] of cases) {
    const before = replyWork.emptyReturns;
    const text = replyJson(r as never, id);
    assert.is(replyWork.emptyReturns - before, 0, JSON.stringify(String(id)));
    assert.is(text, generic(r, id));
  }
});

test.run();
