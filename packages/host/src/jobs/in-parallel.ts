/**
 * Runs `work` over `items` with at most `concurrency` at once. Deploys handle thousands of small
 * files whose file system calls mostly wait on the thread pool; overlapping them is what makes
 * them fast, and the bound keeps descriptors and memory in check.
 *
 * At the first failure no new item starts and `onFailure` is called (so running items can stop
 * early); the returned promise settles only once every started item has settled, so no file
 * handle is still open when the caller cleans up, then rejects with that first failure.
 */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<unknown>,
  onFailure: () => void = () => undefined,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        if (!failure) {
          failure = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}

/** How many file system operations deploys keep in flight. */
export const FILE_CONCURRENCY = 32;
