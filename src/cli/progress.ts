import process from 'node:process'
import { Listr, ListrLogger, ProcessOutput } from 'listr2'
import type { Progress } from '../doctor/progress.js'
import { silentProgress } from '../doctor/progress.js'
import { isInteractive } from './output.js'

export type ProgressMode = 'tty' | 'plain' | 'silent'

/**
 * Picks how progress is shown: listr2's live lines on an interactive terminal, plain lines in CI or
 * when stderr is not a terminal, nothing with --json. Progress always goes to stderr so stdout carries
 * only the report.
 */
export function progressMode(opts: { json: boolean; quiet?: boolean }): ProgressMode {
  if (opts.json || opts.quiet) return 'silent'
  return isInteractive(process.stderr) ? 'tty' : 'plain'
}

export function createProgress(mode: ProgressMode): Progress {
  if (mode === 'silent') return silentProgress
  // Both streams of listr2's output go to stderr, so stdout carries only the report.
  const output = new ProcessOutput(process.stderr, process.stderr)
  const logger = new ListrLogger({ useIcons: true, processOutput: output })
  return {
    async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
      let value: T | undefined
      const list = new Listr(
        [{ title, task: async () => void (value = await fn()) }],
        {
          renderer: mode === 'tty' ? 'default' : 'simple',
          rendererOptions: { logger },
          registerSignalListeners: false,
          exitOnError: true,
          processOutput: output,
        } as never,
      )
      await list.run()
      return value as T
    },
  }
}
