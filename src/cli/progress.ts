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

export type StageEvent = 'start' | 'done' | 'failed' | 'skipped'

/**
 * Shows named stages that are driven by events (start/done/failed/skipped), such as run-job's
 * Prepare → Pre-build → Build → Post-build → Cleanup, with listr2's line renderer on stderr (lines,
 * not redraws, because the job log streams to stdout at the same time). Silent with --json.
 */
export function createStageReporter(mode: ProgressMode, stages: ReadonlyArray<{ id: string; title: string }>): { onStage: (id: string, state: StageEvent, detail?: string) => void; finish: () => Promise<void> } {
  if (mode === 'silent') return { onStage: () => undefined, finish: async () => undefined }
  // The final state of each stage, recorded when its event arrives; a task settles when it starts
  // (listr2 runs them one after another) or when its event arrives, whichever is later.
  const outcome = new Map<string, { state: StageEvent; detail?: string }>()
  const settle = new Map<string, (o: { state: StageEvent; detail?: string }) => void>()
  const output = new ProcessOutput(process.stderr, process.stderr)
  const logger = new ListrLogger({ useIcons: true, processOutput: output })
  const list = new Listr(
    stages.map((s) => ({
      title: s.title,
      task: (_ctx: unknown, task: { title: string; skip: (why?: string) => void }) =>
        new Promise<void>((resolve, reject) => {
          const apply = (o: { state: StageEvent; detail?: string }): void => {
            if (o.state === 'skipped') {
              task.skip(o.detail)
              resolve()
            } else if (o.state === 'failed') reject(new Error(o.detail ? `${s.title}: ${o.detail}` : `${s.title} failed`))
            else {
              if (o.detail) task.title = `${s.title} (${o.detail})`
              resolve()
            }
          }
          const known = outcome.get(s.id)
          if (known) apply(known)
          else settle.set(s.id, apply)
        }),
    })),
    { concurrent: false, exitOnError: false, renderer: 'simple', rendererOptions: { logger }, registerSignalListeners: false } as never,
  )
  const done = list.run().then(
    () => undefined,
    () => undefined,
  )
  const record = (id: string, o: { state: StageEvent; detail?: string }): void => {
    if (outcome.has(id)) return
    outcome.set(id, o)
    settle.get(id)?.(o)
  }
  return {
    onStage: (id, state, detail) => {
      if (state !== 'start') record(id, { state, ...(detail ? { detail } : {}) })
    },
    /** Marks the stages never reached as skipped and waits for the renderer. */
    finish: async () => {
      for (const s of stages) record(s.id, { state: 'skipped', detail: 'not reached' })
      await done
    },
  }
}
