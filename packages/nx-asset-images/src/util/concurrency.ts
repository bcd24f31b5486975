/**
 * Maps `items` through `fn` with at most `limit` calls in flight and returns
 * the results in the order of `items`. On the first failure no new item
 * starts; the calls in flight finish, then the first error is thrown.
 * Hand-written: p-map (ESM-only) rejects on the first error while the other
 * calls still run, and callers here close sessions and remove temp files
 * after it returns; waiting for them is the dozen lines below.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
  return results;
}

/** `mapWithConcurrency` for work whose results nobody needs. */
export async function runWithConcurrency<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  await mapWithConcurrency(items, limit, worker);
}
