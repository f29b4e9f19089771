/**
 * Graceful shutdown on SIGINT/SIGTERM: run the handlers once, in order; a second signal
 * while they run exits at once (the operator insisted). Returns a function that triggers the
 * same shutdown programmatically.
 */
export function onShutdown(
  handler: (signal: string) => Promise<void>,
  exit = process.exit,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const trigger = (signal: string): Promise<void> => {
    running ??= handler(signal).then(
      () => {
        exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        exit(1);
      },
    );
    return running;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (running) {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        exit(130);
      }
      void trigger(signal);
    });
  }
  return () => trigger('programmatic');
}
