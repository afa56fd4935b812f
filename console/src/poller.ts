/**
 * Runs `task` every `everyMs`, never overlapping itself (a slow server is not piled on), and aborts the
 * request in flight when stopped. Returns the stop function.
 */
export function startPoller(
  everyMs: number,
  task: (signal: AbortSignal) => Promise<void>,
  onError: (err: unknown) => void,
  firstDelayMs = 0,
): () => void {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    try {
      await task(controller.signal);
    } catch (err) {
      if (!controller.signal.aborted) onError(err);
    }
    if (!controller.signal.aborted) timer = setTimeout(run, everyMs);
  };
  timer = setTimeout(run, firstDelayMs);
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
