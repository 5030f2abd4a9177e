import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import type { Command } from '@oclif/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commands } from '../../src/index.js'
import { runCommand, type InProcessResult } from '../helpers/run-command.js'

/**
 * Issue 17: a user's mistake in any flag of any command is exit 2 (or the command's own answer), never
 * "internal error" (70), never a stack trace, and a usage error names the flag. Every command and every
 * flag comes from the command map and the classes' flag definitions (base flags and --json included),
 * so a flag added later is covered without touching this file; positional arguments get the same values. Commands run in-process (the same
 * parsing, error paragraphs and exit codes as bin/run.js) to keep the few hundred runs fast.
 */
type FlagDef = { type: 'boolean' | 'option'; char?: string; options?: readonly string[]; multiple?: boolean; hidden?: boolean; parse?: unknown }
type Cmd = typeof Command & { baseFlags?: Record<string, FlagDef>; enableJsonFlag?: boolean }

const LONG = 'x'.repeat(10_000)
const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-flags-meta-'))
const work = path.join(dir, 'work')
mkdirSync(work)
const home = path.join(dir, 'home')
mkdirSync(home)
const config = path.join(dir, 'config.toml')
writeFileSync(config, '[[runners]]\nname = "r"\nurl = "https://gitlab.example.com"\ntoken = "glrt-meta"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\n')
const ciFile = path.join(dir, '.gitlab-ci.yml')
writeFileSync(ciFile, 'build:\n  image: alpine:3.20\n  script: [echo hi]\n')

/** What a command needs besides the flag under test: its required arguments, a CI file for run-job; explain once with a text, once with none (so --job is the input). */
const BASES: Record<string, string[][]> = { 'run-job': [['build', `--ci-file=${ciFile}`]], 'catalog:show': [['oom-killed']], explain: [['OOMKilled'], []] }

/** The values every flag is fed: empty, negative, huge, wrong-typed, a directory where a file is wanted, and the flag without its value. */
function cases(name: string, f: FlagDef): Array<{ what: string; argv: string[] }> {
  const flag = `--${name}`
  if (f.type === 'boolean') return [{ what: 'a value on a switch', argv: [`${flag}=maybe`] }, { what: 'empty', argv: [`${flag}=`] }]
  return [
    { what: 'missing value', argv: [flag] },
    { what: 'empty', argv: [`${flag}=`] },
    { what: 'negative', argv: [`${flag}=-1`] },
    { what: 'huge number', argv: [`${flag}=1000000000000`] },
    { what: '10k characters', argv: [`${flag}=${LONG}`] },
    { what: 'wrong type', argv: [`${flag}=not-a-${f.options ? 'choice' : 'number'}`] },
    { what: 'a directory', argv: [`${flag}=${dir}`] },
  ]
}

const value = (argv: string[]): string | undefined => /=(.+)$/s.exec(argv.at(-1) ?? '')?.[1]

function flagsOf(C: Cmd): Array<[string, FlagDef]> {
  const all: Record<string, FlagDef> = { ...(C.baseFlags ?? {}), ...(C.flags as Record<string, FlagDef>) }
  if (C.enableJsonFlag) all.json = { type: 'boolean' }
  return Object.entries(all)
}

const ENV = { GKR_CONFIG: config, KUBECONFIG: undefined, HOME: home, GITLAB_TOKEN: undefined, CI_SERVER_URL: undefined, DEBUG: undefined }

/** Runs one command line; a command that serves until Ctrl-C (sim start) gets it once it says so. */
async function run(C: Cmd, argv: string[]): Promise<InProcessResult> {
  const signal = (text: string): void => {
    if (!text.includes('Press Ctrl-C to stop')) return
    // Only the command's own handler (the last one added), not the test runner's.
    queueMicrotask(() => (process.listeners('SIGINT').at(-1) as ((s: NodeJS.Signals) => void) | undefined)?.('SIGINT'))
  }
  // Each run starts in an empty folder: a report written by one case ("--junit=-1") is not read by the next ("--ci-file=-1").
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work)
  process.chdir(work)
  const r = await runCommand(C, argv, { env: ENV, stdin: '', onOutput: signal })
  // oclif's development-mode reminder after a parse error (not printed in production): not gkr's output.
  return { ...r, stderr: r.stderr.replace(/^.*\[UnparsedCommand\].*\n?/gm, '') }
}

const cwd = process.cwd()
beforeAll(() => process.chdir(work)) // report files named "-1" or "1000000000000" land in a temporary folder, not in the repository
afterAll(() => {
  process.chdir(cwd)
  rmSync(dir, { recursive: true, force: true })
})

describe('every flag of every command, fed bad values', () => {
  for (const [id, C] of Object.entries(commands) as Array<[string, Cmd]>) {
    it(`gkr ${id.replaceAll(':', ' ')}`, async () => {
      const problems: string[] = []
      for (const [name, f] of flagsOf(C)) {
        for (const c of (BASES[id] ?? [[]]).flatMap((base) => cases(name, f).map((x) => ({ ...x, base })))) {
          // The flag under test goes last, so a missing value is really missing.
          const argv = [...c.base, ...c.argv]
          const r = await run(C, argv)
          const said = `${r.stdout}\n${r.stderr}`
          const shown = `${id} ${c.argv.join(' ').slice(0, 60)} (${c.what}) → exit ${r.code}: ${r.stderr.trim().split('\n')[0]?.slice(0, 160)}`
          if (r.code === 70 || /internal error|report it/.test(said)) problems.push(`internal error: ${shown}`)
          else if (/\n\s+at .+:\d+:\d+\)?\n/.test(said)) problems.push(`stack trace: ${shown}`)
          // A usage error says what to fix: the flag, or the value it was given (a file named by --kubeconfig=…).
          else if (r.code === 2 && !said.includes(`--${name}`) && !(f.char && said.includes(`-${f.char}`)) && !(value(c.argv) && said.includes(value(c.argv)!))) problems.push(`usage error without the flag's name: ${shown}`)
        }
      }
      // Positional arguments get the same values (a leading "-" would read as a flag, so no negative one).
      const args = Object.keys((C.args ?? {}) as Record<string, unknown>)
      for (const [i] of args.entries()) {
        for (const v of ['', '1000000000000', LONG, dir]) {
          const argv = [...(BASES[id]?.[0] ?? [])]
          if (i < argv.length && !argv[i]!.startsWith('-')) argv[i] = v
          else argv.splice(i, 0, v)
          const r = await run(C, argv)
          const said = `${r.stdout}\n${r.stderr}`
          if (r.code === 70 || /internal error|report it/.test(said) || /\n\s+at .+:\d+:\d+\)?\n/.test(said)) problems.push(`argument ${args[i]}=${v.slice(0, 40)} → exit ${r.code}: ${r.stderr.trim().split('\n')[0]?.slice(0, 160)}`)
        }
      }
      expect(problems).toEqual([])
    }, 90_000)
  }
})
