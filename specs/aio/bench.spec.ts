// The move is linear: moving a 8k-node graph costs far less than 8x… squared of a 2k one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchAioMove } from '../../bench/aio.js';

test('benchAioMove scales linearly (chain and wide tree)', () => {
  for (const shape of ['chain', 'tree'] as const) {
    benchAioMove(2000, shape); // warm-up
    const small = benchAioMove(2000, shape);
    const big = benchAioMove(8000, shape);
    console.log(`  ${shape}: ${JSON.stringify(small)} ${JSON.stringify(big)}`);
    assert.is(big.n, 8000);
    // Linear: ~4x; quadratic would be ~16x. Generous bound against timer noise.
    assert.ok(big.ms < small.ms * 10 + 50, `${shape}: ${small.ms} ms for 2k, ${big.ms} ms for 8k`);
  }
});

test.run();
