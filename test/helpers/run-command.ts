/**
 * Runs a gkr command class in this process (house style: command tests run in-process): the same flag
 * parsing, JSON envelope, error paragraphs and exit codes as `bin/run.js`, without the 1-2 s a spawned
 * node process costs. stdout/stderr are captured; environment variables and stdin are swapped in for
 * the run and restored afterwards. Calls must not overlap (they swap process-wide state); tests in one
 * file run one after another. Use a spawned process (runCli) only where the process boundary matters.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { Readable } from 'node:stream'
import { format } from 'node:util'
import { Config, run, type Interfaces } from '@oclif/core'
import { ROOT } from './cli.js'

export interface InProcessResult {
  code: number
  stdout: string
  stderr: string
}

export interface RunnableCommand {
  run(argv: string[], config: Config): Promise<unknown>
}

let config: Promise<Config> | undefined

const TOPICS = Object.keys((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { oclif: { topics?: Record<string, unknown> } }).oclif.topics ?? {})

function idOf(className: string): string | undefined {
  if (!className) return undefined
  const words = className.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' ')
  return TOPICS.includes(words[0]!) && words.length > 1 ? `${words[0]}:${words.slice(1).join('-')}` : words.join('-')
}

/** The package's oclif settings without command discovery: the class is run directly, so oclif need not import every command from dist/. */
function withoutCommandDiscovery(): Interfaces.PJSON {
  const pjson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { oclif: Record<string, unknown> }
  delete pjson.oclif.commands
  return pjson as unknown as Interfaces.PJSON
}

export interface InProcessOptions {
  env?: Record<string, string | undefined>
  stdin?: string
  /** Sees every piece of output as it is written (to react to a line, e.g. a server saying it is ready). */
  onOutput?: (text: string) => void
}

export async function runCommand(cmd: RunnableCommand, argv: string[], opts: InProcessOptions = {}): Promise<InProcessResult> {
  config ??= Config.load({ root: ROOT, pjson: withoutCommandDiscovery() })
  // The id oclif gives a command it loads from the command map (`run-job`, `catalog:show`), not the one
  // it makes up from the class name (`runjob`) for a class run directly: the JSON envelope names it.
  // Derived from the class name as src/index.ts names them (RunJob → run-job, CatalogShow → catalog:show),
  // so that a test of one command does not import them all; test/cli/output.test.ts checks every one.
  const C = cmd as RunnableCommand & { id?: string; name?: string }
  C.id ??= idOf(C.name ?? '')
  return inProcess(await config, (cfg) => cmd.run(argv, cfg), opts)
}

/**
 * A whole command line as bin/run.js runs it (oclif's `run`: help, -h, hooks, plugins such as
 * `help` and `autocomplete`, the did-you-mean for a mistyped command), in this process. Each call
 * loads its own oclif Config: oclif's help rewrites the ids of the commands it shows (`sim:run` →
 * `sim run`) in the loaded Config, which a second command line in the same process would inherit.
 */
export async function runMain(argv: string[], opts: InProcessOptions = {}): Promise<InProcessResult> {
  return inProcess(await Config.load({ root: ROOT }), (cfg) => run(argv, cfg), opts)
}

async function inProcess(cfg: Config, call: (cfg: Config) => Promise<unknown>, opts: InProcessOptions): Promise<InProcessResult> {
  const out: string[] = []
  const err: string[] = []
  const origOut = process.stdout.write.bind(process.stdout)
  const origErr = process.stderr.write.bind(process.stderr)
  const savedEnv = new Map<string, string | undefined>()
  // As runCli: no colour, not "in CI", and no locale or token leaking in from the developer's shell.
  const env = { NO_COLOR: '1', CI: '', LANG: undefined, LC_ALL: undefined, LC_MESSAGES: undefined, GITLAB_TOKEN: undefined, ...opts.env }
  for (const [k, v] of Object.entries(env)) {
    savedEnv.set(k, process.env[k])
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  const stdinDesc = Object.getOwnPropertyDescriptor(process, 'stdin')
  if (opts.stdin !== undefined) Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(opts.stdin)]), configurable: true })
  const capture = (parts: string[]) => ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    parts.push(text)
    opts.onOutput?.(text)
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined
    cb?.()
    return true
  }) as typeof process.stdout.write
  // oclif's `log`/`logJson` go through console.log, which the test runner intercepts: capture it too.
  const origLog = console.log
  const origError = console.error
  const savedExit = process.exitCode
  process.stdout.write = capture(out)
  process.stderr.write = capture(err)
  console.log = (...a: unknown[]) => {
    out.push(format(...a) + '\n')
    opts.onOutput?.(format(...a) + '\n')
  }
  console.error = (...a: unknown[]) => void err.push(format(...a) + '\n')
  process.exitCode = undefined
  try {
    await call(cfg)
  } catch (e) {
    // oclif's own exits (--help, --version) carry their code; BaseCommand.catch has already printed the
    // paragraph and set the exit code before the error comes back here. Anything else is a real failure.
    const code = (e as { oclif?: { exit?: number } }).oclif?.exit
    if (code !== undefined) process.exitCode = code
    else if (process.exitCode === undefined) throw e
  } finally {
    process.stdout.write = origOut
    process.stderr.write = origErr
    console.log = origLog
    console.error = origError
    if (stdinDesc) Object.defineProperty(process, 'stdin', stdinDesc)
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = savedExit
  return { code, stdout: out.join(''), stderr: err.join('') }
}
