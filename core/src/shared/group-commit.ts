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
      // The batch rolled back (or, if its COMMIT failed, perhaps not: flushes must be idempotent).
      // Each item again on its own, so that only the culprit fails.
      for (const entry of batch) await flushOne(entry);
      return;
    }
    batch.forEach((entry, i) => entry.resolve(results[i] as O));
  };

  const start = () => {
    scheduled = false;
    while (running < options.maxConcurrentFlushes && waiting.length > 0) {
      const batch = waiting.slice(0, options.maxBatch);
      waiting = waiting.slice(batch.length);
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

/**
 * One group commit per key object (a database handle) and tenant, created on first use: a
 * tenant's batches are one tenant transaction each. (A deployment has hundreds of tenants, not
 * millions: the per-handle map is never pruned.)
 */
export function groupCommitPerTenant<K extends object, I, O>(create: (key: K, tenantId: string) => GroupCommit<I, O>): (key: K, tenantId: string) => GroupCommit<I, O> {
  const byKey = new WeakMap<K, Map<string, GroupCommit<I, O>>>();
  return (key, tenantId) => {
    let byTenant = byKey.get(key);
    if (!byTenant) byKey.set(key, (byTenant = new Map()));
    let groupCommit = byTenant.get(tenantId);
    if (!groupCommit) {
      groupCommit = create(key, tenantId);
      byTenant.set(tenantId, groupCommit);
    }
    return groupCommit;
  };
}
