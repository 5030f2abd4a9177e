import process from 'node:process'
import { format } from 'node:util'
import { Config } from '@oclif/core'
import { ROOT, type CliResult } from '../helpers/cli.js'

let loaded: Promise<Config> | undefined

/**
 * Runs a gkr command class in this process, the way bin/run.js would (same oclif Config, argv and
 * environment variables), and returns what it wrote to stdout/stderr and the exit code it set.
 * Saves the ~1-2 s a spawned node process costs; the run is otherwise the real command.
 * Calls must not overlap (they swap process.env and the process streams' write functions).
 */
/** A command class as oclif runs it (its static run). */
export interface RunnableCommand {
  run(argv: string[], config: Config): Promise<unknown>
}

export async function runInProcess(cmd: RunnableCommand, argv: string[], opts: { env?: Record<string, string> } = {}): Promise<CliResult> {
  loaded ??= Config.load(ROOT)
  const config = await loaded
  const saved = { env: { ...process.env }, exitCode: process.exitCode, out: process.stdout.write, err: process.stderr.write, log: console.log, error: console.error }
  let stdout = ''
  let stderr = ''
  Object.assign(process.env, { NO_COLOR: '1', CI: '' }, opts.env)
  process.exitCode = undefined
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write
  // oclif's this.log / logJson go through console.log and console.error.
  console.log = (...args: unknown[]) => void (stdout += `${format(...args)}\n`)
  console.error = (...args: unknown[]) => void (stderr += `${format(...args)}\n`)
  let code: number
  try {
    await cmd.run(argv, config)
    code = Number(process.exitCode ?? 0)
  } catch (err) {
    // Text-mode errors: BaseCommand.catch printed the paragraph and set the exit code, then oclif rethrows.
    code = Number(process.exitCode ?? 1)
    if (process.exitCode === undefined) stderr += String(err)
  } finally {
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    console.log = saved.log
    console.error = saved.error
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k]
    Object.assign(process.env, saved.env)
    process.exitCode = saved.exitCode
  }
  return { code, stdout, stderr }
}
