import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Command } from '@oclif/core'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { commands } from '../../src/index.js'
import { outputFormatOf } from '../../src/cli/output-format.js'
import { ROOT } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'

/** Issue 17, "one output convention": -o/--output text|json|yaml everywhere a result is printed, --json its shorthand, one envelope. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-output-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const config = path.join(ROOT, 'examples', 'config.toml')
const ciFile = path.join(ROOT, 'examples', '.gitlab-ci.yml')
const noCluster = { KUBECONFIG: undefined, HOME: dir }
const ESC = String.fromCharCode(27)
type Cmd = typeof Command & { baseFlags?: Record<string, { char?: string; options?: readonly string[] }>; enableJsonFlag?: boolean }

// One quick command line per command (no cluster: cleanup and run-job answer with the error envelope, exit 3).
const LINES: Record<string, string[]> = {
  doctor: ['--offline', '-c', config],
  render: ['-c', config, '--ci-file', ciFile, '--job', 'test'],
  rbac: ['-c', config],
  explain: ['OOMKilled'],
  cleanup: ['-c', config],
  'run-job': ['test', '-c', config, '--ci-file', ciFile],
  'sim:scenarios': [],
  catalog: [],
  'catalog:show': ['oom-killed'],
}

describe('every command that prints a result takes -o/--output and --json', () => {
  it.each(Object.entries(commands) as Array<[string, Cmd]>)('%s', (id, C) => {
    const output = C.baseFlags?.output
    if (!C.enableJsonFlag) {
      // sim start and sim run print no result of their own (a server's banner, another command's output).
      expect(['sim:start', 'sim:run']).toContain(id)
      expect(output).toBeUndefined()
      return
    }
    expect(output).toMatchObject({ char: 'o', options: ['text', 'json', 'yaml'] })
    expect(LINES[id], `add a command line for ${id} to LINES`).toBeDefined()
  })
})

describe('the same envelope in json and yaml', () => {
  it.each(Object.entries(LINES))('%s', async (id, argv) => {
    const C = commands[id] as Cmd
    const json = await runCommand(C, [...argv, '--json'], { env: noCluster })
    const oJson = await runCommand(C, [...argv, '-o', 'json'], { env: noCluster })
    const yaml = await runCommand(C, [...argv, '--output=yaml'], { env: noCluster })
    const env = JSON.parse(json.stdout) as { command: string; exitCode: number }
    expect(env.command).toBe(id.replaceAll(':', ' '))
    expect(env.exitCode).toBe(json.code)
    expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['command', 'exitCode', 'schemaVersion', 'warnings']))
    // Timings differ between runs; everything else is the same document.
    const stable = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (/durationMs|generatedAt|startedAt|ms$/i.test(k) ? 0 : x)))
    expect(stable(JSON.parse(oJson.stdout))).toEqual(stable(env))
    expect(stable(parseYaml(yaml.stdout))).toEqual(stable(env))
    expect([oJson.code, yaml.code]).toEqual([json.code, json.code])
  })
})

describe('output flags', () => {
  it('outputFormatOf reads every spelling, --json first, nothing after --', () => {
    expect(outputFormatOf([])).toBe('text')
    for (const a of [['-o', 'yaml'], ['-oyaml'], ['-o=yaml'], ['--output', 'yaml'], ['--output=yaml']]) expect(outputFormatOf(a)).toBe('yaml')
    expect(outputFormatOf(['--json', '-o', 'yaml'])).toBe('json')
    expect(outputFormatOf(['-o', 'json', '-o', 'text'])).toBe('text')
    expect(outputFormatOf(['--', '--json', '-o', 'yaml'])).toBe('text')
    expect(outputFormatOf(['-o', 'xml'])).toBe('text')
  })

  it('--json with -o yaml is a usage error naming both', async () => {
    const r = await runCommand(commands.catalog!, ['--json', '-o', 'yaml'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'output-conflict', message: expect.stringContaining('--json is short for --output json, and --output yaml') })
  })

  it('a parse error is reported in the format asked for', async () => {
    const r = await runCommand(commands.doctor!, ['--offline', '-o', 'yaml', '--fail-on', 'never'])
    expect(r.code).toBe(2)
    expect(parseYaml(r.stdout)).toMatchObject({ command: 'doctor', exitCode: 2, error: { code: 'usage', message: expect.stringContaining('--fail-on') } })
    expect(r.stderr).toBe('')
  })

  it('an unknown -o value names the choices', async () => {
    const r = await runCommand(commands.catalog!, ['-o', 'xml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Expected --output=xml to be one of: text, json, yaml')
  })
})

describe('run-job -o json|yaml: the envelope alone on stdout', () => {
  it('dry-run without a cluster: stdout is the YAML error envelope, nothing else', async () => {
    const r = await runCommand(commands['run-job']!, ['test', '-c', config, '--ci-file', ciFile, '-o', 'yaml'], { env: noCluster })
    expect(r.code).toBe(3)
    expect(parseYaml(r.stdout)).toMatchObject({ command: 'run-job', exitCode: 3, error: { code: 'no-cluster' } })
  })

  describe('on the simulator, live', () => {
    let sim: Sim
    const ci = path.join(dir, 'live.yml')
    beforeAll(async () => {
      sim = await start('healthy')
      writeFileSync(ci, 'hello:\n  image: alpine:3.20\n  script: [echo hello from the job]\n')
    })
    afterAll(() => sim.stop())
    const env = (): Record<string, string | undefined> => ({ KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig })

    it('-o json: the envelope on stdout; the job log, readable, and the stages on stderr', async () => {
      const r = await runCommand(commands['run-job']!, ['hello', '--ci-file', ci, '--live', '-o', 'json'], { env: env() })
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ command: 'run-job', exitCode: 0, result: { mode: 'live' } })
      expect(r.stderr).toContain('--- Executing "step_script" stage of the job script\n$ echo hello from the job\nhello from the job\n')
      expect(r.stderr).toContain('Job succeeded')
      expect(r.stderr).not.toContain('\u001b')
      expect(r.stderr).not.toContain('section_start')
    })

    it('--raw-log keeps GitLab\'s section markers and colours for tools that read them', async () => {
      const r = await runCommand(commands['run-job']!, ['hello', '--ci-file', ci, '--live', '--raw-log'], { env: env() })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`${ESC}\\[0Ksection_start:\\d+:step_script\r${ESC}\\[0K`))
      expect(r.stdout).toContain('\u001b[32;1m$ echo hello from the job')
    })
  })
})
