import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { builtinScenarios, loadScenario, start } from '../../src/sim/index.js'
import { GkrError } from '../../src/util/errors.js'
import { runCliAsync } from '../helpers/async-cli.js'
import { BIN, ROOT } from '../helpers/cli.js'
import { measureLoadFactor } from '../helpers/load-factor.js'

interface Started {
  /** Milliseconds from spawn until the "Press Ctrl-C" line. */
  readyMs: number
  stdout: string
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }>
}

/** Spawns `gkr sim start …` and resolves once it says it is ready. */
function simStart(args: string[]): Promise<Started> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [BIN, 'sim', 'start', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', CI: '' } })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (stdout.includes('Press Ctrl-C to stop.')) {
        resolve({
          readyMs: performance.now() - t0,
          stdout,
          stop: async (signal) => {
            child.kill(signal)
            const r = await exited
            clearTimeout(killer)
            return r
          },
        })
      }
    })
    void exited.then((r) => reject(new Error(`gkr sim start exited ${r.code} before it was ready: ${r.stderr}`)))
  })
}

function version(kubeconfig: string): Promise<string> {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig)
  const cluster = kc.getCurrentCluster()!
  const token = kc.getCurrentUser()!.token!
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.server}/version`, { ca: Buffer.from(cluster.caData!, 'base64'), headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve(text))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('gkr sim start', () => {
  it('writes the kubeconfig and runner config, prints how to use them, serves until SIGTERM or SIGINT, then stops listening', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-sim-start-'))
    const kubeconfig = path.join(dir, 'kc.yaml')
    const runnerConfig = path.join(dir, 'config.toml')
    const [term, int] = await Promise.all([
      simStart(['--scenario', 'rbac-missing-attach', '--kubeconfig', kubeconfig, '--runner-config', runnerConfig]),
      simStart(['--scenario', 'healthy', '--latency', '5']),
    ])
    const [, url, ready] = /at (https:\/\/127\.0\.0\.1:\d+) \(ready in (\d+) ms\)\n/.exec(term.stdout)!
    // The simulator's own start (certificates, scenario, listen), as the command measures it: a second on
    // an idle machine, scaled by how loaded this one is now.
    const bound = 1000 * measureLoadFactor()
    expect(Number(ready)).toBeLessThan(bound)
    expect(Number(/\(ready in (\d+) ms\)/.exec(int.stdout)![1])).toBeLessThan(bound)
    expect(term.stdout).toBe([
      `gkr sim: scenario rbac-missing-attach at ${url} (ready in ${ready} ms)`,
      `  ${builtinScenarios().find((s) => s.name === 'rbac-missing-attach')!.description}`,
      `  kubeconfig:    ${kubeconfig} (contexts: admin, runner)`,
      `  runner config: ${runnerConfig}`,
      '',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get nodes',
      `  gkr doctor --config ${runnerConfig}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'))
    expect(readFileSync(runnerConfig, 'utf8')).toContain(`url = "${url}"`)
    expect(JSON.parse(await version(kubeconfig))).toMatchObject({ gitVersion: 'v1.33.1' })
    // The second one wrote its files to a temporary directory and removes them when it stops.
    const tmpKubeconfig = /export KUBECONFIG=(\S+)\n/.exec(int.stdout)![1]!
    expect(JSON.parse(await version(tmpKubeconfig))).toMatchObject({ major: '1' })

    const [afterTerm, afterInt] = await Promise.all([term.stop('SIGTERM'), int.stop('SIGINT')])
    // Stopping is the normal end of a server: exit 0, after the base command's one line about the signal.
    expect([afterTerm.code, afterTerm.stderr]).toEqual([0, '\nReceived SIGTERM: stopping and cleaning up (press Ctrl-C again to abandon cleanup).\n'])
    expect([afterInt.code, afterInt.stderr]).toEqual([0, '\nReceived SIGINT: stopping and cleaning up (press Ctrl-C again to abandon cleanup).\n'])
    await expect(version(kubeconfig)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(existsSync(kubeconfig)).toBe(true)
    expect(existsSync(tmpKubeconfig)).toBe(false)
    // Wall time from spawn is dominated by node and oclif loading (and the machine's load), so it is reported, not asserted.
    process.stderr.write(`gkr sim start: ready in ${ready} ms (printed), ${Math.round(term.readyMs)} ms / ${Math.round(int.readyMs)} ms from spawn\n`)
  }, 60_000)

  it('the simulator itself starts in well under a second (TLS certificates, scenario, listen)', async () => {
    // 500 ms on an idle machine, scaled by the load measured around the starts (a loaded 2-core machine is
    // several times slower); each scenario's faster of two starts, since a slow code path is slow every time.
    const before = measureLoadFactor()
    const times: number[] = []
    for (const name of ['healthy', 'quota-secrets-leaked', 'windows-nodes']) {
      let best = Infinity
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now()
        const sim = await start(name)
        best = Math.min(best, performance.now() - t0)
        await sim.stop()
      }
      times.push(best)
    }
    const factor = Math.max(before, measureLoadFactor())
    process.stderr.write(`start(): ${times.map((t) => `${Math.round(t)} ms`).join(', ')} (load factor ${factor.toFixed(2)})\n`)
    expect(Math.max(...times)).toBeLessThan(500 * factor)
  })
})

describe('gkr sim run (the README quick start) and bad scenarios', () => {
  it('sim run --scenario rbac-missing-attach runs doctor as the runner and exits with its code; a broken scenario file is one paragraph naming file, line and column', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-sim-bad-'))
    const bad = path.join(dir, 'bad.yaml')
    writeFileSync(bad, 'name: bad\nidentities:\n  - { name: admin, token: t\nobjects: []\n')
    const [quick, broken] = await Promise.all([
      runCliAsync(['sim', 'run', '--scenario', 'rbac-missing-attach'], { timeoutMs: 60_000 }),
      runCliAsync(['sim', 'start', '--scenario', bad], { timeoutMs: 60_000 }),
    ])
    expect(quick.code).toBe(1)
    expect(quick.stdout).toMatch(/cluster-permissions/)
    expect(quick.stdout).toMatch(/pods\/attach/)
    expect(broken.code).not.toBe(0)
    expect(broken.stdout).toBe('')
    expect(broken.stderr).not.toMatch(/^\s+at /m)
    expect(broken.stderr).toContain('invalid scenario YAML')
    expect(broken.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`))
  }, 60_000)

  it('scenario problems are GkrErrors with their location (in-process)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-sim-bad-'))
    const file = path.join(dir, 'nokind.yaml')
    writeFileSync(file, 'name: x\nidentities: [{ name: a, token: t }]\nobjects:\n  - { metadata: { name: y } }\n')
    expect(() => loadScenario(file)).toThrow(GkrError)
    const syntax = path.join(dir, 'syntax.yaml')
    writeFileSync(syntax, 'name: x\nobjects:\n  - a: [1, 2\n')
    expect(() => loadScenario(syntax)).toThrow(expect.objectContaining({ at: { file: syntax, line: 4, column: 1 } }))
    expect(() => loadScenario(file)).toThrow('invalid scenario: objects[0] needs kind and metadata.name')
    expect(() => loadScenario('no-such-scenario')).toThrow(expect.objectContaining({ message: 'no built-in scenario named "no-such-scenario" and no such file', at: { flag: '--scenario' } }))
  })
})
