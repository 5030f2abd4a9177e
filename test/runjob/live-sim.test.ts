import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadScenario, start } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { runCliAsync } from '../helpers/async-cli.js'
import { BIN } from '../helpers/cli.js'
import { spawn } from 'node:child_process'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-live-'))
writeFileSync(path.join(project, 'README.txt'), 'hello\n')
writeFileSync(path.join(project, '.gitlab-ci.yml'), [
  'variables:', '  GREETING: hello',
  'test:', '  image: alpine:3.20', '  before_script:', '    - echo before', '  script:', '    - cat README.txt', '    - echo "$GREETING from $CI_JOB_NAME"', '    - mkdir -p out && echo artifact > out/result.txt', '  after_script:', '    - echo after', '  artifacts:', '    paths: [out/]',
  'fail:', '  image: alpine:3.20', '  script:', '    - echo about to fail', '    - exit 3', '    - echo never',
  'pull:', '  image: registry.example.com/ci/builder:9.99', '  script:', '    - echo never',
  'slow:', '  image: alpine:3.20', '  script:', '    - echo sleeping', '    - sleep 20',
].join('\n') + '\n')

const kinds = ['pods', 'secrets', 'services', 'configmaps'].map((r) => RESOURCES.find((x) => x.resource === r && x.group === '')!)

describe('gkr run-job --live on the simulator (real scripts, real cleanup)', () => {
  it.each([
    ['test', 0, /before\n[\s\S]*hello\n[\s\S]*hello from test\n[\s\S]*after\n[\s\S]*Job succeeded/],
    ['fail', 1, /about to fail\n[\s\S]*ERROR: Job failed: command terminated with exit code 3/],
  ] as const)('job %s exits %i with its output, and leaves nothing behind', async (job, code, output) => {
    const sim = await start('healthy')
    const artifacts = mkdtempSync(path.join(os.tmpdir(), 'gkr-art-'))
    try {
      const r = await runCliAsync(['run-job', job, '--ci-file', path.join(project, '.gitlab-ci.yml'), '--live', '--artifacts-dir', artifacts], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(code)
      expect(r.stdout).toMatch(output)
      expect(r.stdout).not.toContain('never')
      if (job === 'test') expect(readFileSync(path.join(artifacts, 'out', 'result.txt'), 'utf8')).toBe('artifact\n')
      else expect(existsSync(path.join(artifacts, 'out'))).toBe(false)
      for (const k of kinds) expect(sim.store.list(k, 'gitlab-runner').map((o) => o.metadata.name), k.resource).toEqual([])
      const created = sim.audit.filter((e) => e.verb === 'create' && !e.dryRun && e.resource === 'pods' && !e.subresource && e.code === 201)
      const deleted = sim.audit.filter((e) => e.verb === 'delete' && e.resource === 'pods' && e.code === 200)
      expect([created.length, deleted.length]).toEqual([1, 1])
    } finally {
      await sim.stop()
    }
  })

  it('a job blocked at pod creation fails with the API server\'s message and the catalog entry, and cleans up the secret it created', async () => {
    const sim = await start('webhook-deny')
    try {
      const r = await runCliAsync(['run-job', 'test', '--ci-file', path.join(project, '.gitlab-ci.yml'), '--live', '--var', 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"dTpw"}}}'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig } })
      expect(r.code).toBe(1)
      expect(r.stdout + r.stderr).toContain('admission webhook "require-team-label.example.com" denied the request: pods must carry the label "team"')
      expect(r.stdout + r.stderr).toContain('webhook-denied')
      const secretCreates = sim.audit.filter((e) => e.verb === 'create' && e.resource === 'secrets' && !e.dryRun && e.code === 201)
      expect(secretCreates).toHaveLength(1)
      for (const k of kinds) expect(sim.store.list(k, 'gitlab-runner').map((o) => o.metadata.name), k.resource).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr run-job --live: jobs blocked while waiting for the pod', () => {
  it.each([
    ['no-matching-nodes', 'test', /\tUnschedulable: "0\/3 nodes are available: 3 node\(s\) had untolerated taint\(s\)[\s\S]*waiting for pod running: timed out waiting for pod to start \(last phase: Pending\)/, 'scheduling-failed'],
    ['image-pull-failure', 'pull', /image pull failed: (rpc error: code = NotFound desc = failed to pull and unpack image|Back-off pulling image "registry.example.com\/ci\/builder:9.99")/, 'image-pull-failed'],
  ] as const)('%s fails with the runner\'s message and catalog entry, and deletes what it created', async (name, job, message, catalog) => {
    const scenario = loadScenario(name)
    // A short poll_timeout so the test does not wait the scenario's minutes.
    scenario.runnerConfig = scenario.runnerConfig.replace(/poll_timeout = \d+/, 'poll_timeout = 3\n      poll_interval = 1')
    const sim = await start(scenario)
    try {
      const r = await runCliAsync(['run-job', job, '--ci-file', path.join(project, '.gitlab-ci.yml'), '--live', '--var', 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"dTpw"}}}'], { env: { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }, timeoutMs: 30_000 })
      const out = r.stdout + r.stderr
      expect(r.code).toBe(1)
      expect(out).toMatch(message)
      expect(out).toContain(catalog)
      for (const k of kinds) expect(sim.store.list(k, 'gitlab-runner').filter((o) => !o.metadata.name!.startsWith('runner-pullfail')).map((o) => o.metadata.name), k.resource).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr run-job --live: Ctrl-C', () => {
  it.each([
    ['prepare', 'Waiting for pod', 'slow'],
    ['pre-build', '❯ Pre-build', 'test'],
    ['build', 'sleeping', 'slow'],
    ['post-build', '❯ Post-build', 'test'],
  ] as const)('interrupted during %s: cleans up, exit 130', async (_stage, marker, job) => {
    const scenario = loadScenario('healthy')
    if (_stage === 'prepare') scenario.knobs.scheduling = { delayMs: 60_000 }
    const sim = await start(scenario)
    try {
      const child = spawn(process.execPath, [BIN, 'run-job', job, '--ci-file', path.join(project, '.gitlab-ci.yml'), '--live', '--artifacts-dir', mkdtempSync(path.join(os.tmpdir(), 'gkr-art-'))], { env: { ...process.env, KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig, NO_COLOR: '1', CI: '' } })
      let out = ''
      let sent = false
      const onData = (d: Buffer): void => {
        out += d.toString()
        if (!sent && out.includes(marker)) {
          sent = true
          child.kill('SIGINT')
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      expect(sent).toBe(true)
      expect(code).toBe(130)
      expect(out).toContain('stopping and cleaning up')
      for (const k of kinds) expect(sim.store.list(k, 'gitlab-runner').map((o) => o.metadata.name), k.resource).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})
