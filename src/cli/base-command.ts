import process from 'node:process'
import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'
import { Command, Errors, Flags, type Interfaces } from '@oclif/core'
import { EXIT, type ExitCode } from './exit-codes.js'
import { GkrError, formatLocation, usageError, type Location } from '../util/errors.js'
import { useColor, type Sink } from './output.js'
import { getEntry } from '../catalog/index.js'
import { tokenMasker } from '../util/secret.js'
import { clipLongWords } from '../util/text.js'
import { closeAgents } from '../kube/agents.js'
import { ApiError } from '../kube/errors.js'
import { OUTPUT_FORMATS, outputFormatOf, type OutputFormat } from './output-format.js'
import { closest, displayId } from './suggest.js'

export const JSON_SCHEMA_VERSION = 1

export interface JsonEnvelope<T = unknown> {
  schemaVersion: number
  command: string
  exitCode: number
  result?: T
  warnings: string[]
  error?: { code: string; message: string; suggestions: string[]; ref?: string; at?: Location; stack?: string }
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

/**
 * Every gkr command extends this. It owns the global flags, the JSON envelope, the mapping from
 * errors to exit codes and one-paragraph messages, and Ctrl-C handling (an AbortSignal for core code).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    debug: Flags.boolean({
      description: 'Print stack traces and debug details on errors (also DEBUG=gkr).',
      helpGroup: 'GLOBAL',
      default: false,
    }),
    // oclif adds --json to every command with enableJsonFlag; this one replaces its description.
    json: Flags.boolean({ description: 'Short for --output json.', helpGroup: 'GLOBAL' }),
    output: Flags.option({
      char: 'o',
      description: 'Output format: text for people, or the result as one json or yaml document on stdout (the same envelope for every command; see docs/json-output.md). --json is short for --output json.',
      options: OUTPUT_FORMATS,
      helpGroup: 'GLOBAL',
    })(),
  }

  /** For commands that print no result (sim start, sim run): --debug only. */
  static readonly debugOnlyFlags = { debug: BaseCommand.baseFlags.debug }

  protected exitWith: ExitCode = EXIT.OK
  protected warningsOut: string[] = []
  private readonly abortController = new AbortController()
  private signalCount = 0
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.signalCount++
    if (this.signalCount === 1) {
      process.stderr.write(`\nReceived ${sig}: stopping and cleaning up (press Ctrl-C again to abandon cleanup).\n`)
      this.abortController.abort(new GkrError('interrupted', `interrupted by ${sig}`, { exit: EXIT.INTERRUPTED }))
    } else {
      process.stderr.write(`\nReceived ${sig} again: abandoning cleanup.\n`)
      this.onAbandon()
      process.exit(EXIT.INTERRUPTED)
    }
  }

  /** Aborted on the first SIGINT/SIGTERM. Core functions take it and clean up before returning. */
  protected get signal(): AbortSignal {
    return this.abortController.signal
  }

  /** Called on the second Ctrl-C, just before exiting: say what is left behind. */
  protected onAbandon(): void {}

  protected get debugEnabled(): boolean {
    return this.argv.includes('--debug') || /(^|,)\s*(gkr|\*)/.test(process.env.DEBUG ?? '')
  }

  /** text, json or yaml: from the parsed flags once parsed, from argv before (a parse error is reported in the format asked for). */
  protected get outputFormat(): OutputFormat {
    if (!this.ctor.enableJsonFlag) return 'text'
    if (this.config.scopedEnvVar?.('CONTENT_TYPE')?.toLowerCase() === 'json') return 'json'
    return outputFormatOf(this.argv)
  }

  /** oclif's "--json" test, widened: -o json and -o yaml are machine output too (stdout carries only the envelope). */
  public override jsonEnabled(): boolean {
    return this.outputFormat !== 'text'
  }

  protected get color(): boolean {
    return !this.jsonEnabled() && useColor(process.stdout)
  }

  // Last line of defence, as the runner's job log: token-shaped values are masked in everything printed.
  protected get out(): Sink {
    return { write: (t) => void process.stdout.write(tokenMasker.mask(t)) }
  }

  protected get errOut(): Sink {
    return { write: (t) => void process.stderr.write(tokenMasker.mask(t)) }
  }

  protected override logJson(json: unknown): void {
    const safe = tokenMasker.maskDeep(json)
    // The YAML library loads only for --format yaml (most runs print text or JSON).
    if (this.outputFormat === 'yaml') process.stdout.write((createRequire(import.meta.url)('yaml') as typeof Yaml).stringify(safe, { lineWidth: 0 }))
    else process.stdout.write(`${JSON.stringify(safe, null, 2)}\n`)
  }

  /** Sets the exit code the command ends with (the highest one set wins, except OK). */
  protected setExit(code: ExitCode): void {
    if (code > this.exitWith) this.exitWith = code
  }

  protected addWarning(w: string): void {
    this.warningsOut.push(w)
    if (!this.jsonEnabled()) process.stderr.write(`Warning: ${w}\n`)
  }

  /**
   * oclif's parser throws plain CLIErrors for a flag without its value, an integer out of range and
   * the like: every error from parsing the command line is the user's, so it becomes a usage error
   * (exit 2), never an internal one. A GkrError from a flag's own parse function keeps its code.
   */
  protected override async parse<F extends Record<string, unknown>, B extends Record<string, unknown>, A extends Record<string, unknown>>(options?: Interfaces.Input<F, B, A>, argv?: string[]): Promise<Interfaces.ParserOutput<F, B, A>> {
    const defs = { ...this.ctor.baseFlags, ...(options ?? this.ctor).flags, ...(this.ctor.enableJsonFlag ? { json: { type: 'boolean' } } : {}) } as Record<string, { type?: string; allowNo?: boolean }>
    // oclif reads `--live=yes` as the switch plus an argument "yes" (or an empty one) and then blames the argument: name the switch instead.
    for (const a of argv ?? this.argv) {
      if (a === '--') break
      const m = /^--(no-)?([\w-]+)=/.exec(a)
      // `--config=` (an empty value) would otherwise mean "no value" to some flags and "the current folder" to others.
      if (m && !m[1] && a.length === m[0].length && defs[m[2]!]?.type === 'option') throw usageError('flag-empty-value', `--${m[2]} was given an empty value (${a}): give it a value, or leave the flag out`, { at: { flag: `--${m[2]}` }, suggestions: ['Run the command with --help to see its flags and examples.'] })
      if (m && defs[m[2]!]?.type === 'boolean') throw usageError('flag-takes-no-value', `--${m[2]} is a switch and takes no value (${a.length > 60 ? `${a.slice(0, 60)}…` : a}): give --${m[2]} alone`, { at: { flag: `--${m[2]}` }, suggestions: ['Run the command with --help to see its flags and examples.'] })
    }
    try {
      const parsed = await super.parse(options, argv)
      const f = parsed.flags as { json?: boolean; output?: OutputFormat }
      if (f.json && f.output && f.output !== 'json') throw usageError('output-conflict', `--json is short for --output json, and --output ${f.output} asks for ${f.output}: give one of them`, { at: { flag: '--output' } })
      return parsed
    } catch (err) {
      throw parseError(err, Object.keys(defs))
    }
  }

  public override async init(): Promise<void> {
    await super.init()
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    // Requests gkr gave up on (an API server that never answers) must not keep the process alive.
    closeAgents()
    if (!err) process.exitCode = this.exitWith
    await super.finally(err)
  }

  protected override toSuccessJson(result: unknown): JsonEnvelope {
    return { schemaVersion: JSON_SCHEMA_VERSION, command: displayId(this.id ?? ''), exitCode: this.exitWith, result, warnings: this.warningsOut }
  }

  protected override toErrorJson(err: unknown): JsonEnvelope {
    const e = toGkrError(err)
    return {
      schemaVersion: JSON_SCHEMA_VERSION,
      command: displayId(this.id ?? ''),
      exitCode: e.exit,
      warnings: this.warningsOut,
      error: {
        code: e.code,
        message: e.message,
        suggestions: e.suggestions,
        ...(e.ref ? { ref: e.ref } : {}),
        ...(e.at ? { at: e.at } : {}),
        ...(this.debugEnabled && err instanceof Error && err.stack ? { stack: err.stack } : {}),
      },
    }
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    const e = toGkrError(err)
    process.exitCode = e.exit
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(err))
      return
    }
    process.stderr.write(tokenMasker.mask(formatErrorParagraph(e)) + '\n')
    if (this.debugEnabled && err instanceof Error && err.stack) process.stderr.write(tokenMasker.mask(`\n${err.stack}\n`))
    const cause = (err as { cause?: unknown }).cause
    if (this.debugEnabled && cause instanceof Error && cause.stack) process.stderr.write(`\nCaused by: ${cause.stack}\n`)
  }
}

/** One paragraph: what went wrong, where, what to try, where to read more. */
export function formatErrorParagraph(e: GkrError): string {
  const where = formatLocation(e.at)
  let s = `Error: ${where ? `${where}: ` : ''}${e.message.trim()}`
  if (e.suggestions.length > 0) s += `\n${e.suggestions.map((x) => `  Try: ${x}`).join('\n')}`
  if (e.ref) {
    // A catalog id is shown with its title and how to read the entry; anything else is a link already.
    const entry = getEntry(e.ref)
    s += `\n  See: ${entry ? `${entry.title} (gkr catalog show ${entry.id}; ${entry.ref})` : e.ref}`
  }
  return s
}

/**
 * An error from oclif's parser as a usage error, without oclif's "Parsing --flag" wrapping and help
 * footer. A mistyped flag gets a did-you-mean from the command's own flags (`--jsn` → `--json`).
 */
function parseError(err: unknown, flagNames: string[]): unknown {
  if (!(err instanceof Error) || err instanceof Errors.ExitError) return err
  const flag = /^Parsing (--[\w-]+) \n\t/.exec(err.message)?.[1]
  // oclif lists flag-relation errors (exclusive, dependsOn) under a heading, one per indented line.
  const msg = err.message.replace(/\nSee more help with --help\s*$/, '').replace(/^Parsing --[\w-]+ \n\t/, '').replace(/^The following errors? occurred:\s*/, '').replace(/\n\s+/g, '; ').trim()
  if (err instanceof GkrError) {
    err.message = msg
    return err
  }
  // oclif does not export its NonExistentFlagsError class: it is the parse error that lists the flags.
  const unknown = err instanceof Errors.CLIError && 'parse' in err && 'flags' in err && Array.isArray(err.flags) ? (err.flags as unknown[]).map(String) : undefined
  if (unknown && unknown.length > 0) {
    const typed = unknown.map((f) => clipLongWords(f.replace(/=.*$/, '')))
    const hints = typed.map((f) => ({ f, near: closest(f.replace(/^-+/, ''), flagNames).map((n) => `--${n}`) }))
    const mean = (near: string[]): string => (near.length > 0 ? `did you mean ${near.join(' or ')}?` : '')
    const message = hints.length === 1 ? `unknown flag${hints[0]!.near.length > 0 ? `; ${mean(hints[0]!.near)}` : ''}` : `unknown flags: ${hints.map((h) => `${h.f}${h.near.length > 0 ? ` (${mean(h.near)})` : ''}`).join(', ')}`
    return new GkrError('flag-unknown', message, { exit: EXIT.USAGE, suggestions: ['Run the command with --help to see its flags and examples.'], ...(hints.length === 1 ? { at: { flag: typed[0]! } } : {}), cause: err })
  }
  return new GkrError('usage', clipLongWords(msg), { exit: EXIT.USAGE, suggestions: ['Run the command with --help to see its flags and examples.'], ...(flag ? { at: { flag } } : {}), cause: err })
}

/** Maps anything thrown into a GkrError: parse errors are usage errors; unknown errors are bugs. */
export function toGkrError(err: unknown): GkrError {
  if (err instanceof GkrError) return err
  if (err instanceof Errors.CLIError && 'parse' in err) {
    const msg = clipLongWords(err.message.replace(/\nSee more help with --help\s*$/, ''))
    return new GkrError('usage', msg, { exit: EXIT.USAGE, suggestions: ['Run the command with --help to see its flags and examples.'] })
  }
  if (err instanceof Errors.ExitError) {
    return new GkrError('exit', err.message, { exit: (err.oclif.exit ?? EXIT.FAILED) as ExitCode })
  }
  // An API answer no caller expected is the cluster's word, not a bug in gkr: exit 3, by status and reason.
  if (err instanceof ApiError) return new GkrError('kube-api-error', `the Kubernetes API server answered ${err.status}${err.reason ? ` ${err.reason}` : ''}: ${err.message.split('\n')[0]!.slice(0, 200)}`, { exit: EXIT.INCOMPLETE })
  const message = err instanceof Error ? err.message : String(err)
  return new GkrError('internal', `internal error: ${message}`, {
    exit: EXIT.INTERNAL,
    suggestions: ['Run again with --debug to see the stack trace, and report it.'],
  })
}
