import { writeFile } from 'node:fs/promises'
import { usageError } from '../util/errors.js'
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

/** Writes a report file a flag asked for (--junit, --sarif); a path that cannot be written is the user's mistake (exit 2), named with the flag. */
export async function writeReportFile(file: string, text: string, flag: string): Promise<void> {
  try {
    await writeFile(file, text)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw usageError('report-unwritable', `cannot write the ${flag.replace(/^--/, '')} report to ${file} (${code})`, { at: { flag }, suggestions: ['Choose a path in a directory that exists and that you can write to.'] })
  }
}
