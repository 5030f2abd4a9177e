import process from 'node:process'
import { format } from 'node:util'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Config } from '@oclif/core'
import { ROOT, type CliResult } from './cli.js'

let config: Promise<Config> | undefined

/**
 * Runs one command class in this process, from the TypeScript sources: the same flags parsing, JSON
 * envelope, error paragraphs and exit codes as `bin/run.js`, without the 1-2 s a spawned process costs.
 * stdout/stderr are captured, `env` is applied for the duration of the call, and process.exitCode is
 * restored afterwards. Use a spawned process (runCli) only where the process boundary itself matters.
 */
export async function runCommand(cmd: { run(argv: string[], config: Config): Promise<unknown> }, argv: string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  // The package's own oclif settings without command discovery: loading the explicit command map would
  // import every command from dist/ (~2.5 s); the command class is run directly instead.
  config ??= (async () => {
    const pjson = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { oclif: Record<string, unknown> } & Record<string, unknown>
    const { commands: _discovery, ...oclif } = pjson.oclif
    return Config.load({ root: ROOT, pjson: { ...pjson, oclif } as never })
  })()
  const cfg = await config
  let stdout = ''
  let stderr = ''
  const realOut = process.stdout.write.bind(process.stdout)
  const realErr = process.stderr.write.bind(process.stderr)
  const savedEnv: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries({ NO_COLOR: '1', ...opts.env })) {
    savedEnv[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  const savedExit = process.exitCode
  process.exitCode = undefined
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write
  // oclif writes --json envelopes with console.log, which the test runner replaces with its own console.
  const realLog = console.log
  const realError = console.error
  console.log = (...args: unknown[]): void => void (stdout += `${format(...args)}\n`)
  console.error = (...args: unknown[]): void => void (stderr += `${format(...args)}\n`)
  let code: number
  try {
    await cmd.run(argv, cfg)
    code = Number(process.exitCode ?? 0)
  } catch (err) {
    // oclif's own exit path (e.g. --help, --version) throws after writing.
    const exit = (err as { oclif?: { exit?: number } }).oclif?.exit
    if (exit === undefined) throw err
    code = exit
  } finally {
    process.stdout.write = realOut
    process.stderr.write = realErr
    console.log = realLog
    console.error = realError
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  process.exitCode = savedExit
  return { code, stdout, stderr }
}
