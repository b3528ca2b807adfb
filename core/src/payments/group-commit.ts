/**
 * Group commit: each caller submits one item and waits for its own result, while the items
 * submitted during a flush go together into the next one — one transaction (and its round trips
 * and WAL flush) for many callers. Under light load a flush holds a single item, so nobody waits
 * for a batch to fill. A flush that fails is retried item by item: one bad item fails only its
 * own caller, and the others are not held hostage by it.
 */
export interface GroupCommit<I, O> {
  submit(item: I): Promise<O>;
}

export interface GroupCommitOptions<I, O> {
  /** Settles `items` (in one transaction) and returns their results in the same order. */
  flush: (items: readonly I[]) => Promise<O[]>;
  /** Most items per flush. */
  maxBatch: number;
  /** Flushes running at once (each holds a database connection). */
  maxConcurrentFlushes: number;
  /**
   * Items of one partition always share a flush, and when several flushes can start, waiting
   * items are spread over them partition by partition (parallel transactions then touch
   * disjoint rows). Without it, one flush takes everything waiting, up to maxBatch.
   */
  partitionOf?: (item: I) => string;
}

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<I, O>(options: GroupCommitOptions<I, O>): GroupCommit<I, O> {
  let waiting: Waiting<I, O>[] = [];
  let running = 0;
  let scheduled = false;

  const flushOne = async (entry: Waiting<I, O>) => {
    try {
      const [result] = await options.flush([entry.item]);
      entry.resolve(result as O);
    } catch (error) {
      entry.reject(error);
    }
  };

  const run = async (batch: Waiting<I, O>[]) => {
    if (batch.length === 1) return flushOne(batch[0]!);
    let results: O[];
    try {
      results = await options.flush(batch.map((entry) => entry.item));
    } catch {
      // Nothing of the batch committed: each item again on its own, so only the culprit fails.
      for (const entry of batch) await flushOne(entry);
      return;
    }
    batch.forEach((entry, i) => entry.resolve(results[i] as O));
  };

  const start = () => {
    scheduled = false;
    const free = options.maxConcurrentFlushes - running;
    if (free <= 0 || waiting.length === 0) return;
    let batches: Waiting<I, O>[][];
    if (options.partitionOf) {
      batches = spreadByPartition(waiting, options.partitionOf, free, options.maxBatch);
      const taken = new Set(batches.flat());
      waiting = waiting.filter((entry) => !taken.has(entry));
    } else {
      batches = [waiting.slice(0, options.maxBatch)];
      waiting = waiting.slice(batches[0]!.length);
    }
    for (const batch of batches) {
      running += 1;
      void run(batch).finally(() => {
        running -= 1;
        schedule();
      });
    }
  };

  function schedule() {
    if (scheduled || running >= options.maxConcurrentFlushes || waiting.length === 0) return;
    scheduled = true;
    // After this turn's I/O callbacks: callers woken by the same burst join one flush.
    setImmediate(start);
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}

/**
 * Deals whole partitions (largest first) to at most `bins` batches, each to the emptiest batch
 * it fits in; what fits nowhere waits for the next flush. A partition larger than `maxBatch`
 * is cut, so nothing waits forever.
 */
function spreadByPartition<E extends { item: I }, I>(entries: readonly E[], partitionOf: (item: I) => string, bins: number, maxBatch: number): E[][] {
  const partitions = new Map<string, E[]>();
  for (const entry of entries) {
    const key = partitionOf(entry.item);
    const partition = partitions.get(key);
    if (partition) partition.push(entry);
    else partitions.set(key, [entry]);
  }
  const batches: E[][] = [];
  for (const partition of [...partitions.values()].sort((a, b) => b.length - a.length)) {
    const slice = partition.slice(0, maxBatch);
    const open = batches.filter((batch) => batch.length + slice.length <= maxBatch);
    const emptiest = open.sort((a, b) => a.length - b.length)[0];
    if (batches.length < bins) batches.push([...slice]);
    else if (emptiest) emptiest.push(...slice);
  }
  return batches;
}

/** One group commit per key object (a database handle), created on first use. */
export function groupCommitPer<K extends object, I, O>(create: (key: K) => GroupCommit<I, O>): (key: K) => GroupCommit<I, O> {
  const byKey = new WeakMap<K, GroupCommit<I, O>>();
  return (key) => {
    let groupCommit = byKey.get(key);
    if (!groupCommit) {
      groupCommit = create(key);
      byKey.set(key, groupCommit);
    }
    return groupCommit;
  };
}
