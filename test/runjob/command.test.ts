import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinScenarios, start } from '../../src/sim/index.js'
import { runCliAsync } from '../helpers/async-cli.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-runjob-'))
const ci = path.join(dir, '.gitlab-ci.yml')
writeFileSync(ci, 'build:\n  image: alpine:3.20\n  services:\n    - name: postgres:16\n      alias: db\n  script:\n    - echo hello\n  needs: []\n')

describe('gkr run-job --dry-run on the simulator', () => {
  it.each([
    ['healthy', 0, undefined],
    ['readonly-rootfs-policy', 1, 'error-only-read-only-root-filesystem-container-is-allowed'],
    ['webhook-deny', 1, 'webhook-denied'],
    ['quota-cpu-memory', 1, 'quota-exceeded'],
    ['limitrange-conflict', 1, 'limit-range-violation'],
  ] as const)('%s: exit %i, catalog %s, nothing persisted', async (scenario, code, catalog) => {
    const sim = await start(scenario)
    try {
      const r = await runCliAsync(['run-job', 'build', '--ci-file', ci, '--json'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(code)
      const env = JSON.parse(r.stdout)
      expect(env.result.mode).toBe('dry-run')
      expect(env.result.unsupported).toEqual(['needs'])
      const rejected = env.result.dryRun.steps.filter((s: { accepted: boolean }) => !s.accepted)
      if (catalog) expect(rejected.map((s: { explanation?: { id: string } }) => s.explanation?.id)).toContain(catalog)
      else expect(rejected).toEqual([])
      expect(env.result.dryRun.steps.map((s: { kind: string }) => s.kind)).toEqual(['Pod'])
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('prints the objects with secrets redacted and says what it does not support', async () => {
    const sim = await start('healthy')
    try {
      const r = await runCliAsync(['run-job', 'build', '--ci-file', ci, '--var', 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"c2VjcmV0"}}}'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('Note: gkr does not act on needs in job build')
      expect(r.stdout).toMatch(/kind: Secret[\s\S]*\.dockercfg: "\[REDACTED\]"/)
      expect(r.stdout).not.toContain('c2VjcmV0')
      expect(r.stdout).toMatch(/ok +Secret\/runner-/)
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('bad input: unknown job → exit 2 naming the jobs', async () => {
    const r = await runCliAsync(['run-job', 'nope', '--ci-file', ci, '-c', path.join(process.cwd(), 'examples', 'config.toml'), '--kubeconfig', '/nonexistent'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no job named nope')
  })
})

describe('gkr run-job --dry-run makes no persistent write on any scenario', () => {
  it.concurrent.each(builtinScenarios().map((s) => [s.name] as const))('%s', async (name) => {
    const sim = await start(name)
    try {
      const r = await runCliAsync(['run-job', 'build', '--ci-file', ci, '--json'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      expect([0, 1, 3]).toContain(r.code)
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})
