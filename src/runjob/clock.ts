/** Time as run-job and the probe see it; tests pass a manual clock so timeouts need no real waiting. */
export interface Clock {
  now(): number
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error)
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      const onAbort = (): void => {
        clearTimeout(t)
        reject(signal!.reason as Error)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    }),
}

/**
 * A clock that only moves when told to (`advance`), or, with `autoAdvance`, jumps to the next sleeper's
 * deadline whenever the process is otherwise idle (after pending I/O callbacks); for tests of poll and
 * cleanup timeouts that must not wait in real time.
 */
export class ManualClock implements Clock {
  private t: number
  private waiters: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = []
  constructor(start = 0, private readonly autoAdvance = false) {
    this.t = start
  }
  now(): number {
    return this.t
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.autoAdvance) setImmediate(() => this.tick())
    return new Promise((resolve, reject) => {
      const w = { at: this.t + ms, resolve, reject }
      this.waiters.push(w)
      signal?.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((x) => x !== w)
        reject(signal.reason)
      }, { once: true })
    })
  }
  advance(ms: number): void {
    this.t += ms
    const due = this.waiters.filter((w) => w.at <= this.t)
    this.waiters = this.waiters.filter((w) => w.at > this.t)
    for (const w of due) w.resolve()
  }
  private tick(): void {
    if (this.waiters.length === 0) return
    const next = Math.min(...this.waiters.map((w) => w.at))
    this.advance(Math.max(0, next - this.t))
  }
  get pending(): number {
    return this.waiters.length
  }
}
