import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, ROOT } from '../helpers/cli.js'

/**
 * Start-up cost: the Kubernetes client library and the simulator's dependencies are most of what gkr
 * would import, and most invocations need neither. These tests record what a real run resolves.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-startup-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Runs gkr with the import tracer and returns what it resolved. Asynchronous, so a simulator running in
 * this process keeps serving while the traced command talks to it.
 */
function importsOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; modules: string[] }> {
  const file = path.join(dir, `${args.join('_').replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.txt`)
  const hook = path.join(ROOT, 'test', 'helpers', 'trace-imports.mjs')
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', hook, BIN, ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production', NO_COLOR: '1', ...env, GKR_TRACE_IMPORTS: file }, stdio: 'ignore', timeout: 30_000 })
    child.on('close', (code) => {
      let text = ''
      try {
        text = readFileSync(file, 'utf8')
      } catch {
        // nothing resolved: the assertions fail with an empty list
      }
      resolve({ code, modules: text.split('\n').filter(Boolean) })
    })
  })
}

const HEAVY = ['@kubernetes/client-node', '/undici/', '@peculiar/x509', '/ws/', '/dist/sim/']
const heavyIn = (modules: string[]): string[] => modules.filter((m) => HEAVY.some((h) => m.includes(h)))

describe('start-up imports', () => {
  it.each([
    [['--version']],
    [['explain', 'ERROR: Job failed (system failure): timed out waiting for pod to start']],
    [['doctor', '--offline', '-c', 'examples/typos.toml']],
  ])('gkr %j loads neither the Kubernetes client, undici nor the simulator', async (args) => {
    const r = await importsOf(args)
    // doctor finds the typos (exit 1); no run is a crash.
    expect([0, 1]).toContain(r.code)
    expect(heavyIn(r.modules)).toEqual([])
  })

  it('--version and --help import no command (the manifest answers); a command imports its own file only', async () => {
    const own = `${ROOT}/dist/`
    const commandFiles = (modules: string[]): string[] => modules.map((m) => m.replace(/^file:\/\//, '')).filter((m) => m.startsWith(own) && /^(commands\/|index\.js)/.test(m.slice(own.length))).map((m) => m.slice(own.length))
    expect(commandFiles((await importsOf(['--version'])).modules)).toEqual([])
    expect(commandFiles((await importsOf(['version'])).modules)).toEqual([])
    expect(commandFiles((await importsOf(['--help'])).modules)).toEqual([])
    expect(commandFiles((await importsOf(['explain', 'OOMKilled'])).modules)).toEqual(['commands/explain.js'])
  })

  it('a command that reaches a cluster loads the client as one bundled file, not the package module by module', async () => {
    const { start } = await import('../../src/sim/index.js')
    const sim = await start('healthy')
    try {
      const r = await importsOf(['doctor', '--as-runner', '--json'], { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig })
      expect(r.code).toBe(0)
      expect(r.modules.filter((m) => m.endsWith('/dist/kube/client-node.js'))).toHaveLength(1)
      expect(r.modules.filter((m) => m.includes('node_modules/@kubernetes/client-node/'))).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('the tracer sees them when a command does need them (sim scenarios loads the simulator)', async () => {
    const r = await importsOf(['sim', 'scenarios'])
    expect(r.code).toBe(0)
    expect(heavyIn(r.modules).some((m) => m.includes('/dist/sim/'))).toBe(true)
  })

  it('gkr --version is answered before oclif loads, with the same line oclif prints', async () => {
    const fast = spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, encoding: 'utf8' })
    const oclif = spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GKR_NO_FAST_VERSION: '1' } })
    expect(fast.status).toBe(0)
    expect(fast.stdout).toBe(oclif.stdout)
    expect(fast.stdout).toMatch(/^gkr\/\d+\.\d+\.\d+ \S+-\S+ node-v\d+/)
    expect((await importsOf(['--version'])).modules.some((m) => m.includes('@oclif/core'))).toBe(false)
  })
})
