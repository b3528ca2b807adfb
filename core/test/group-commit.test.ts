import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../src/shared/group-commit.js';

/** A flush that records its batches and can be held open until released. */
function recordingFlush(fail: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  let release: () => void = () => {};
  let held = Promise.resolve();
  return {
    batches,
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    async flush(items: readonly number[]) {
      batches.push([...items]);
      await held;
      if (items.some(fail)) throw new Error(`bad item among ${items.join(',')}`);
      return items.map((item) => item * 10);
    },
  };
}

describe('group commit', () => {
  it('puts everything submitted during a flush into the next one, and answers each caller with its own result', async () => {
    const recorder = recordingFlush();
    const group = createGroupCommit({ flush: recorder.flush, maxBatch: 10, maxConcurrentFlushes: 1 });
    recorder.hold();
    const first = group.submit(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first flush starts, alone
    const rest = [2, 3, 4].map((item) => group.submit(item));
    recorder.release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(recorder.batches).toEqual([[1], [2, 3, 4]]);
  });

  it('cuts batches at maxBatch', async () => {
    const recorder = recordingFlush();
    const group = createGroupCommit({ flush: recorder.flush, maxBatch: 2, maxConcurrentFlushes: 1 });
    expect(await Promise.all([1, 2, 3, 4, 5].map((item) => group.submit(item)))).toEqual([10, 20, 30, 40, 50]);
    expect(recorder.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the culprit when a batch fails, retrying the others one by one', async () => {
    const recorder = recordingFlush((item) => item === 3);
    const group = createGroupCommit({ flush: recorder.flush, maxBatch: 10, maxConcurrentFlushes: 1 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((item) => group.submit(item)));
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'failed'))).toEqual([10, 20, 'failed', 40]);
    expect(recorder.batches).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });
});
