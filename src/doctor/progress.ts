/**
 * How long-running work reports progress. Core code only sees this interface; src/cli/progress.ts
 * provides the terminal (listr2) and plain-line implementations.
 */
export interface Progress {
  step<T>(title: string, fn: () => Promise<T>): Promise<T>
}

export const silentProgress: Progress = {
  step: (_title, fn) => fn(),
}
