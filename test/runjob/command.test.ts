/**
 * The few spawned end-to-end cases of `gkr run-job` (bin/run.js against the simulator): the JSON
 * envelope, the text output, bad input, a live job, and Ctrl-C handling, which only a real process
 * with real signals can show. Everything else runs in-process (e2e-sim.test.ts), which is far cheaper.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadScenario, start } from '../../src/sim/index.js'
import { runCliAsync } from '../helpers/async-cli.js'
import { BIN } from '../helpers/cli.js'
import { plainLog } from '../../src/runjob/script.js'
import { expectNothingLeft, listedIn } from './sim-harness.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-runjob-'))
const ci = path.join(dir, '.gitlab-ci.yml')
writeFileSync(path.join(dir, 'README.txt'), 'hello\n')
writeFileSync(ci, [
  'build:', '  image: alpine:3.20', '  services:', '    - name: postgres:16', '      alias: db', '  script:', '    - echo hello', '  needs: []',
  'test:', '  image: alpine:3.20', '  script:', '    - cat README.txt', '    - mkdir -p out && echo artifact > out/result.txt', '  artifacts:', '    paths: [out/]',
  'slow:', '  image: alpine:3.20', '  script:', '    - echo sleeping', '    - sleep 20',
].join('\n') + '\n')
const AUTH = 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"c2VjcmV0LWNhbmFyeQ=="}}}'

// Spawned processes are slow on a loaded machine; these waits are bounds, not sleeps. The four cases
// share nothing (a simulator each, on its own port) and mostly wait on their process: they run at once.
describe.concurrent('gkr run-job (spawned)', { timeout: 90_000 }, () => {
  it('--dry-run --json: one envelope, exit 1, the rejection with its catalog entry, nothing persisted', async () => {
    const sim = await start('readonly-rootfs-policy')
    try {
      const r = await runCliAsync(['run-job', 'build', '--ci-file', ci, '--json', '--var', AUTH], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }, timeoutMs: 60_000 })
      expect(r.code).toBe(1)
      const env = JSON.parse(r.stdout)
      expect(env).toMatchObject({ schemaVersion: 1, command: 'run-job', exitCode: 1, result: { mode: 'dry-run', unsupported: ['needs'] } })
      expect(env.result.dryRun.steps.map((s: { kind: string; accepted: boolean }) => `${s.kind}:${s.accepted}`)).toEqual(['Secret:true', 'Pod:false'])
      expect(env.result.dryRun.steps[1].explanation.id).toBe('error-only-read-only-root-filesystem-container-is-allowed')
      expect(r.stdout + r.stderr).not.toContain('c2VjcmV0LWNhbmFyeQ==')
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('text output: objects as YAML with secrets redacted, the unsupported keys said, exit 0', async () => {
    const sim = await start('healthy')
    try {
      const r = await runCliAsync(['run-job', 'build', '--ci-file', ci, '--var', AUTH], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }, timeoutMs: 60_000 })
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('Note: gkr does not act on needs in job build')
      expect(r.stdout).toMatch(/kind: Secret[\s\S]*\.dockercfg: "\[REDACTED\]"/)
      expect(r.stdout + r.stderr).not.toContain('c2VjcmV0LWNhbmFyeQ==')
      expect(r.stdout).toMatch(/ok +Secret\/runner-/)
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('bad input: unknown job → exit 2 naming the jobs, no stack trace', async () => {
    const r = await runCliAsync(['run-job', 'nope', '--ci-file', ci, '-c', path.join(process.cwd(), 'examples', 'config.toml'), '--kubeconfig', '/nonexistent'], { timeoutMs: 60_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no job named nope')
    expect(r.stderr).toContain('Jobs in')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('--live: the job runs, its artifacts come back, exit 0, nothing left', async () => {
    const sim = await start('healthy')
    const artifacts = mkdtempSync(path.join(os.tmpdir(), 'gkr-art-'))
    try {
      const r = await runCliAsync(['run-job', 'test', '--ci-file', ci, '--live', '--artifacts-dir', artifacts], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }, timeoutMs: 60_000 })
      expect(r.code).toBe(0)
      expect(plainLog(r.stdout)).toMatch(/\$ cat README.txt\nhello\n[\s\S]*Job succeeded\n/)
      expect(readFileSync(path.join(artifacts, 'out', 'result.txt'), 'utf8')).toBe('artifact\n')
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})

/** Spawns run-job --live and sends `signals` SIGINTs, each when its marker shows in the output. */
async function interrupt(kubeconfig: string, config: string, job: string, markers: string[]): Promise<{ code: number | null; out: string; sent: number }> {
  const child = spawn(process.execPath, [BIN, 'run-job', job, '--ci-file', ci, '--live', '--var', AUTH], { env: { ...process.env, KUBECONFIG: kubeconfig, GKR_CONFIG: config, NO_COLOR: '1', CI: '' } })
  let out = ''
  let sent = 0
  const onData = (d: Buffer): void => {
    out += d.toString()
    while (sent < markers.length && out.includes(markers[sent]!)) {
      sent++
      child.kill('SIGINT')
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  return { code, out, sent }
}

describe('gkr run-job --live: Ctrl-C (spawned)', { timeout: 90_000 }, () => {
  it('Ctrl-C during the build: stops, cleans up, exit 130, nothing left', async () => {
    const sim = await start('healthy')
    try {
      const r = await interrupt(sim.kubeconfig, sim.runnerConfig, 'slow', ['sleeping'])
      expect(r.sent).toBe(1)
      expect(r.code).toBe(130)
      expect(r.out).toContain('stopping and cleaning up')
      expect(r.out).toContain('interrupted; every object gkr created was deleted')
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })

  it('a second Ctrl-C abandons cleanup, says what is left and the command that removes it', async () => {
    // Slow API calls keep cleanup busy long enough for the second signal to land in it.
    const scenario = loadScenario('healthy')
    scenario.knobs.scheduling = { delayMs: 3_600_000 } // never within the test (the scenario clock runs 100× fast)
    const sim = await start(scenario, { latencyMs: 250 })
    try {
      const r = await interrupt(sim.kubeconfig, sim.runnerConfig, 'slow', ['Waiting for pod', 'stopping and cleaning up'])
      expect(r.sent, r.out).toBe(2)
      expect(r.code).toBe(130)
      expect(r.out).toContain('abandoning cleanup')
      expect(r.out).toMatch(/Cleanup abandoned; [12] object\(s\) gkr created may be left in the cluster:\n( {2}(Pod|Secret) gitlab-runner\/runner-[a-z0-9-]+\n)+Remove them with:\n {2}kubectl delete --ignore-not-found -n gitlab-runner /)
      // Every object of the job still in the namespace is named in the command (the in-process test runs it).
      const named = /kubectl delete --ignore-not-found -n gitlab-runner ([^\n]+)/.exec(r.out)![1]!.split(' ').map((n) => n.replace(/^pod\//, 'pods/').replace(/^secret\//, 'secrets/'))
      for (const left of (await listedIn(sim)).filter((n) => n.includes('/runner-'))) expect(named).toContain(left)
    } finally {
      await sim.stop()
    }
  })
})
