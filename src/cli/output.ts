import process from 'node:process'

/** Where a core function writes text. Commands pass the process streams; tests pass buffers. */
export interface Sink {
  write(text: string): void
}

export const stdoutSink: Sink = { write: (t) => void process.stdout.write(t) }
export const stderrSink: Sink = { write: (t) => void process.stderr.write(t) }

/** A sink that keeps what was written, for tests. */
export function bufferSink(): Sink & { text(): string } {
  const parts: string[] = []
  return { write: (t) => void parts.push(t), text: () => parts.join('') }
}

/**
 * Colour is used only on a TTY, never with NO_COLOR (any value), never for JSON.
 * FORCE_COLOR=1 forces it on (for screenshots of the terminal output).
 */
export function useColor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

/** True when the process runs in CI or without a terminal: progress falls back to plain lines. */
export function isInteractive(stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI && env.TERM !== 'dumb'
}
