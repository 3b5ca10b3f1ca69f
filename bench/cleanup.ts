/** Synchronous release steps for children and temp files, so they also run from `exit` and signal handlers. */
export interface Cleanup {
  /** Registers a step; the returned function runs it now (once) and unregisters it. */
  add(release: () => void): () => void;
  /** Runs every registered step, newest first; a failing step never stops the others. */
  releaseAll(): void;
}

export function createCleanup(): Cleanup {
  const steps = new Set<() => void>();
  const runOnce = (step: () => void) => {
    if (!steps.delete(step)) return;
    try {
      step();
    } catch (error) {
      console.error(`bench cleanup: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return {
    add(release) {
      const step = () => release();
      steps.add(step);
      return () => runOnce(step);
    },
    releaseAll() {
      for (const step of [...steps].reverse()) runOnce(step);
    },
  };
}
