import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { commands } from '../../src/index.js'
import { runMain } from '../helpers/run-command.js'

/** Issue 17, "conventions people expect": -h, gkr help [COMMAND], did-you-mean, no internal ids, completion. */
const INTERNAL_ID = /\b(?:sim|catalog):[a-z]/
const spaced = Object.keys(commands).map((id) => id.replaceAll(':', ' '))
const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-conventions-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('help', () => {
  it('gkr, gkr -h, gkr --help and gkr help list every command by the name users type', async () => {
    const outs = []
    for (const a of [[], ['-h'], ['--help'], ['help']]) outs.push(await runMain(a)) // one at a time: each swaps the process streams
    for (const r of outs) {
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('USAGE')
      for (const top of ['doctor', 'run-job', 'render', 'rbac', 'explain', 'cleanup', 'catalog', 'sim', 'help', 'autocomplete']) expect(r.stdout).toMatch(new RegExp(`^  ${top} `, 'm'))
      expect(r.stdout).not.toMatch(INTERNAL_ID)
    }
    expect(new Set(outs.map((r) => r.stdout)).size).toBe(1)
  })

  it.each(spaced)('gkr %s -h: usage and examples as typed', async (name) => {
    const h = await runMain([...name.split(' '), '-h'])
    expect(h.code).toBe(0)
    expect(h.stdout).toContain(`$ gkr ${name}`)
    expect(h.stdout).not.toMatch(INTERNAL_ID)
  })

  it('gkr help COMMAND equals gkr COMMAND -h and --help', async () => {
    const outs = [await runMain(['help', 'sim', 'start']), await runMain(['sim', 'start', '-h']), await runMain(['sim', 'start', '--help'])]
    expect(outs.map((r) => r.code)).toEqual([0, 0, 0])
    expect(new Set(outs.map((r) => r.stdout)).size).toBe(1)
  })

  it('topics list their commands with spaces', async () => {
    const r = await runMain(['help', 'sim'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ {2}sim start /m)
    expect(r.stdout).not.toMatch(INTERNAL_ID)
  })
})

describe('did you mean', () => {
  it.each([
    [['dcotor'], '"dcotor" is not a gkr command; did you mean "gkr doctor"?', 'gkr help`'],
    [['sim', 'strat'], '"sim strat" is not a gkr command; did you mean "gkr sim start"?', 'gkr help sim`'],
    [['catalog', 'shwo', 'x'], '"catalog shwo" is not a gkr command; did you mean "gkr catalog show"?', 'gkr help catalog`'],
    [['help', 'dcotor'], 'did you mean "gkr doctor"?', ''],
    [['dcotor', '--help'], 'did you mean "gkr doctor"?', ''],
    [['sim', 'strat', '-h'], 'did you mean "gkr sim start"?', ''],
    [['zzzzzzzz'], '"zzzzzzzz" is not a gkr command\n', ''],
  ])('gkr %j: exit 2, one paragraph with the nearest command', async (argv, said, more) => {
    const r = await runMain(argv)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(said)
    expect(r.stderr).toContain(more)
    expect(r.stderr).not.toMatch(INTERNAL_ID)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout).toBe('')
  })

  it('a mistyped command with --json answers with the error envelope', async () => {
    const r = await runMain(['sim', 'strat', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaVersion: 1, command: 'sim strat', exitCode: 2, error: { code: 'command-unknown', message: expect.stringContaining('did you mean "gkr sim start"?') } })
  })

  it.each([
    [['doctor', '--ofline'], '--ofline: unknown flag; did you mean --offline?'],
    [['run-job', 'x', '--raw-lgo'], '--raw-lgo: unknown flag; did you mean --raw-log?'],
    [['catalog', '--jsno'], '--jsno: unknown flag; did you mean --json?'],
    [['render', '--ci-flie', 'x', '--jbo', 'y'], 'unknown flags: --ci-flie (did you mean --ci-file?), --jbo (did you mean --job or --json?)'],
    [['explain', '--zzzzzz'], '--zzzzzz: unknown flag\n'],
  ])('gkr %j names the nearest flag, exit 2', async (argv, said) => {
    const r = await runMain(argv)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(said)
  })

  it('a switch given a value names the switch', async () => {
    const r = await runMain(['doctor', '--offline=yes'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--offline: --offline is a switch and takes no value (--offline=yes): give --offline alone')
  })
})

describe('shell completion (gkr autocomplete)', () => {
  const env = { HOME: dir, XDG_CACHE_HOME: path.join(dir, 'cache') }
  const hasBash = spawnSync('bash', ['-c', 'true']).status === 0

  it('prints the setup for bash and writes a completion function', async () => {
    const r = await runMain(['autocomplete', 'bash'], { env })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('gkr autocomplete script bash')
    expect(readFileSync(path.join(dir, 'cache', 'gkr', 'autocomplete', 'functions', 'bash', 'gkr.bash'), 'utf8')).toContain('_gkr_autocomplete')
    // zsh shows what it offers with its description: the words of a topic, never an internal id.
    const zsh = readFileSync(path.join(dir, 'cache', 'gkr', 'autocomplete', 'functions', 'zsh', '_gkr'), 'utf8')
    expect(zsh).toContain('"start[Start a simulated Kubernetes cluster')
    expect(zsh).not.toMatch(INTERNAL_ID)
  })

  it.skipIf(!hasBash)('bash completes commands and topics by their words, and flags', () => {
    const fn = path.join(dir, 'cache', 'gkr', 'autocomplete', 'functions', 'bash', 'gkr.bash')
    const complete = (words: string[]): string[] => {
      const script = `source ${JSON.stringify(fn)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _gkr_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
      return r.stdout.split('\n').filter(Boolean).sort()
    }
    expect(complete(['gkr', 'do'])).toEqual(['doctor'])
    expect(complete(['gkr', 'sim', 'st'])).toEqual(['start'])
    expect(complete(['gkr', 'catalog', ''])).toEqual(['show'])
    expect(complete(['gkr', 'run-job', '--raw'])).toEqual(['--raw-log'])
    expect(complete(['gkr', 'doctor', '--out'])).toEqual(['--output'])
    expect(complete(['gkr', 'sim', 'start', '--out'])).toEqual([])
  })
})
