/** Capped exponential backoff with jitter, for reconnecting streams. */
export interface Backoff {
  /** The first wait, in milliseconds (250 by default). */
  initialMs?: number;
  /** The longest wait, in milliseconds (30 000 by default). */
  maxMs?: number;
  /** Returns a number in [0, 1); Math.random by default. Tests inject their own. */
  random?: () => number;
}

/**
 * The wait before reconnect attempt `attempt` (0 for the first): initialMs doubled per attempt,
 * capped at maxMs, with "equal jitter" (between half and all of it), so that many clients cut
 * off together do not come back together, and no client ever retries in a hot loop.
 */
export function backoffDelay(attempt: number, b: Backoff = {}): number {
  const initial = b.initialMs ?? 250;
  const max = b.maxMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  const random = b.random ?? Math.random;
  return ceiling / 2 + (ceiling / 2) * random();
}

/** Resolves after ms, or rejects as soon as signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
