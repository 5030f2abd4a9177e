/**
 * run-job end to end on the simulator, in-process (runJobInput + runJob, as the command calls them):
 * real scripts in the build container, real API calls, and after every test the namespace is listed
 * through the API to prove nothing gkr created is left.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { builtinScenarios, loadScenario, start } from '../../src/sim/index.js'
import { CleanupLedger } from '../../src/runjob/ledger.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { runJobInput } from '../../src/runjob/command-input.js'
import { ROOT } from '../helpers/cli.js'
import type { Stage } from '../../src/runjob/live.js'
import { accepts, expectNothingLeft, freePort, listedIn, runOnSim, scaledClock } from './sim-harness.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-e2e-'))
writeFileSync(path.join(project, 'README.txt'), 'hello\n')
writeFileSync(path.join(project, '.gitignore'), 'secret.env\n')
writeFileSync(path.join(project, 'secret.env'), 'not for the cluster\n')
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, [
  'variables:', '  GREETING: hello',
  'test:', '  image: alpine:3.20', '  before_script:', '    - echo before', '  script:', '    - cat README.txt', '    - test ! -e secret.env', '    - echo "$GREETING from $CI_JOB_NAME"', '    - mkdir -p out && echo artifact > out/result.txt', '  after_script:', '    - echo after', '  artifacts:', '    paths: [out/]',
  'fail:', '  image: alpine:3.20', '  script:', '    - echo about to fail', '    - exit 3', '    - echo never', '  after_script:', '    - echo after the failure',
  'pull:', '  image: registry.example.com/ci/builder:9.99', '  script:', '    - echo never',
  'slow:', '  image: alpine:3.20', '  script:', '    - echo sleeping', '    - sleep 20',
  'build:', '  image: alpine:3.20', '  services:', '    - name: postgres:16', '      alias: db', '  script:', '    - echo hello', '  needs: []',
].join('\n') + '\n')

/** Registry credentials make the runner create a Secret before the pod. */
const AUTH = 'DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"c2VjcmV0LWNhbmFyeQ=="}}}'
const CANARY = 'c2VjcmV0LWNhbmFyeQ=='
const RUNNER_HINT = '. Check https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information'

describe('run-job --live on the simulator: the job runs', () => {
  it('a passing job: output in order, .gitignore honoured, artifacts copied back, exit 0, nothing left', async () => {
    const sim = await start('healthy')
    const artifacts = mkdtempSync(path.join(os.tmpdir(), 'gkr-art-'))
    try {
      const r = await runOnSim(sim, 'test', { ciFile, live: true, artifactsDir: artifacts })
      expect(r.error).toBeUndefined()
      expect(r.result?.exitCode).toBe(0)
      expect(r.out).toMatch(/\$ echo before\nbefore\n\$ cat README.txt\nhello\n\$ test ! -e secret.env\n\$ echo "\$GREETING from \$CI_JOB_NAME"\nhello from test\n[\s\S]*Running after_script\n\$ echo after\nafter\n[\s\S]*Job succeeded\n$/)
      expect(readFileSync(path.join(artifacts, 'out', 'result.txt'), 'utf8')).toBe('artifact\n')
      expect(r.result?.live?.artifacts).toEqual(['out/'])
      const podCreates = sim.audit.filter((e) => e.verb === 'create' && !e.dryRun && e.resource === 'pods' && !e.subresource && e.code === 201)
      expect(podCreates).toHaveLength(1)
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })

  it('a failing job stops at the failing command, runs after_script, exit 1 with the runner\'s message, nothing left', async () => {
    const sim = await start('healthy')
    const artifacts = mkdtempSync(path.join(os.tmpdir(), 'gkr-art-'))
    try {
      const r = await runOnSim(sim, 'fail', { ciFile, live: true, artifactsDir: artifacts })
      expect(r.result?.exitCode).toBe(1)
      expect(r.result?.live?.scriptExitCode).toBe(3)
      expect(r.out).toMatch(/about to fail\n[\s\S]*after the failure\n[\s\S]*ERROR: Job failed: command terminated with exit code 3\n/)
      expect(r.out).not.toContain('never')
      expect(existsSync(path.join(artifacts, 'out'))).toBe(false)
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job --live on the simulator: services', () => {
  it('services are reachable by alias from the build container (and by image name, for one without alias: svc-0); nothing left, servers stopped', async () => {
    const [webPort, echoPort] = [await freePort(), await freePort()]
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-svc-'))
    const ci = path.join(dir, '.gitlab-ci.yml')
    // Each service is a one-line HTTP server started by the service's entrypoint and command, named by
    // its variables. The job resolves each name, checks it is loopback (so nothing else is ever
    // contacted) and then talks to it, retrying while the server starts (as a job waits for a service).
    const serve = (port: number): string => `require('http').createServer((q, s) => s.end('pong from ' + process.env.SVC_NAME + ' for ' + q.url + '\\n')).listen(${port}, '127.0.0.1')`
    const client = 'const go = (n) => fetch(`http://${process.argv[1]}:${process.argv[2]}/ping`).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => (n > 0 ? setTimeout(go, 20, n - 1) : (console.error(e.message), process.exit(1)))); go(250)'
    const reach = (name: string, port: number): string[] => [`getent hosts ${name}`, `ADDR=$(getent hosts ${name} | cut -d' ' -f1)`, 'test "$ADDR" = 127.0.0.1', `node -e '${client}' "$ADDR" ${port}`]
    const service = (image: string, alias: string | undefined, name: string, port: number): string[] => [
      `    - name: ${image}`, ...(alias ? [`      alias: ${alias}`] : []), '      entrypoint: ["node", "-e"]', `      command: [${JSON.stringify(serve(port))}]`, '      variables:', `        SVC_NAME: ${name}`,
    ]
    writeFileSync(ci, [
      'with-services:', '  image: alpine:3.20',
      '  services:', ...service('registry.example.com/tiny-http:1', 'web', 'web', webPort), ...service('registry.example.com/tools/echo:2', undefined, 'echo', echoPort),
      '  script:', ...[...reach('web', webPort), ...reach('tools-echo', echoPort)].map((l) => `    - ${JSON.stringify(l)}`),
    ].join('\n') + '\n')
    const sim = await start('healthy')
    try {
      const r = await runOnSim(sim, 'with-services', { ciFile: ci, live: true })
      expect(r.error).toBeUndefined()
      expect(r.result?.exitCode).toBe(0)
      expect(r.out).toMatch(/\$ getent hosts web\n127\.0\.0\.1 +web\n\$ ADDR=\$\(getent hosts web \| cut -d' ' -f1\)\n\$ test "\$ADDR" = 127\.0\.0\.1\n\$ node -e [^\n]+\npong from web for \/ping\n/)
      expect(r.out).toMatch(/\$ getent hosts tools-echo\n127\.0\.0\.1 +tools-echo\n[^\n]+\n[^\n]+\n\$ node -e [^\n]+\npong from echo for \/ping\n[\s\S]*Job succeeded\n$/)
      // The pod: a container named after the alias, svc-0 for the one without, every name in hostAliases.
      const pod = r.result!.objects.find((o) => o.kind === 'Pod') as { spec: { containers: Array<{ name: string }>; hostAliases?: unknown } }
      expect(pod.spec.containers.map((c) => c.name)).toEqual(['build', 'helper', 'svc-0', 'web'])
      expect(pod.spec.hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['tools-echo', 'tiny-http', 'web'] }])
      await expectNothingLeft(sim)
      // The pod's deletion killed the services' processes: the ports are free again.
      await expect.poll(async () => [await accepts(webPort), await accepts(echoPort)], { timeout: 5000 }).toEqual([false, false])
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job --live on the simulator: execution strategy', () => {
  it('attach (the default): scripts are saved with exec and run through pods/attach; legacy exec: no attach', async () => {
    for (const legacy of [false, true]) {
      const scenario = loadScenario('healthy')
      if (legacy) scenario.runnerConfig = scenario.runnerConfig.replace('[runners.kubernetes]', '[runners.feature_flags]\n      FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true\n    [runners.kubernetes]')
      const sim = await start(scenario)
      try {
        const r = await runOnSim(sim, 'fail', { ciFile, live: true, vars: ['DEPLOY_TOKEN=canary-in-the-url-7f3a'] })
        expect(r.result?.live?.scriptExitCode).toBe(3)
        // Scripts (which export the job's variables) go on stdin, never into exec's URL, which audit logs keep.
        expect(sim.audit.filter((e) => e.subresource === 'exec').length).toBeGreaterThan(0)
        expect(sim.audit.filter((e) => e.requestURI.includes('canary-in-the-url'))).toEqual([])
        expect(r.out).toMatch(/\$ echo about to fail\nabout to fail\n\$ exit 3\n[\s\S]*after the failure\n/)
        expect(r.out).not.toContain('command_exit_code')
        const attaches = sim.audit.filter((e) => e.subresource === 'attach' && e.code === 101)
        expect(attaches.length).toBe(legacy ? 0 : 2)
        await expectNothingLeft(sim)
      } finally {
        await sim.stop()
      }
    }
  })

  it('rbac-missing-attach, as the runner\'s service account: the build fails naming pods/attach and the catalog entry, nothing left', async () => {
    const sim = await start('rbac-missing-attach')
    try {
      const r = await runOnSim(sim, 'test', { ciFile, live: true, kubeconfig: sim.kubeconfigFor('runner') })
      expect(r.error).toBeUndefined()
      expect(r.result?.exitCode).toBe(1)
      const failure = r.result!.live!.failure!
      expect(failure.message).toMatch(/^ERROR: Job failed \(system failure\): the API server refused pods\/attach on pod gitlab-runner\/runner-[a-z0-9-]+ \(403 Forbidden\): the kubeconfig user "runner" may not create pods\/attach in namespace gitlab-runner$/)
      expect(failure.ref).toBe('rbac-forbidden')
      expect(r.out).toContain('See: rbac-forbidden')
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job --live on the simulator: jobs the cluster blocks', () => {
  // Rejected when the pod is created, after the credentials secret was: the secret must go too.
  it.each([
    ['webhook-deny', 'admission webhook "require-team-label.example.com" denied the request: pods must carry the label "team"', 'webhook-denied'],
    ['quota-cpu-memory', 'exceeded quota', 'quota-exceeded'],
    ['readonly-rootfs-policy', 'only read-only root filesystem container is allowed', 'error-only-read-only-root-filesystem-container-is-allowed'],
    ['pod-security-restricted', 'is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (containers "init-permissions", "build", "helper", "db" must set securityContext.allowPrivilegeEscalation=false)', 'pod-security-admission'],
    ['service-account-missing', 'is forbidden: error looking up service account gitlab-runner/ci-jobs: serviceaccount "ci-jobs" not found', 'service-account-missing'],
  ] as const)('%s: pod creation rejected after the secret was created → exit 1, catalog entry, secret deleted', async (name, message, catalog) => {
    const sim = await start(name)
    try {
      const r = await runOnSim(sim, 'build', { ciFile, live: true, vars: [AUTH] })
      expect(r.result?.exitCode).toBe(1)
      const failure = r.result!.live!.failure!
      expect(failure.message).toMatch(/^ERROR: Job failed \(system failure\): prepare environment: setting up build pod: creating pod runner-/)
      expect(failure.message).toContain(message)
      expect(failure.message.endsWith(RUNNER_HINT)).toBe(true)
      expect(failure.ref).toBe(catalog)
      expect(r.out).toContain(`See: ${catalog}`)
      const secretCreated = sim.audit.filter((e) => e.verb === 'create' && e.resource === 'secrets' && !e.dryRun && e.code === 201)
      const secretDeleted = sim.audit.filter((e) => e.verb === 'delete' && e.resource === 'secrets' && e.code === 200)
      expect([secretCreated.length, secretDeleted.length]).toEqual([1, 1])
      expect(JSON.stringify(r.result) + r.out).not.toContain(CANARY)
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })

  // The pod is created but never runs: poll_timeout (shrunk by the injected clock) or a pull failure.
  it.each([
    ['no-matching-nodes', 'test', /\tUnschedulable: "0\/3 nodes are available: 3 node\(s\) had untolerated taint\(s\)[\s\S]*\tWarning FailedScheduling: 0\/3 nodes are available/, 'ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start (last phase: Pending)', 'scheduling-failed'],
    ['slow-scheduling', 'test', /Waiting for pod gitlab-runner\/runner-[a-z0-9-]+ to be running on the node <unknown>, status is Pending/, 'ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start (last phase: Pending)', 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
    ['image-pull-failure', 'pull', /ERROR: Job failed: prepare environment: image pull failed: (rpc error: code = NotFound desc = failed to pull and unpack image|Back-off pulling image "registry.example.com\/ci\/builder:9.99")/, 'ERROR: Job failed: prepare environment: image pull failed: ', 'image-pull-failed'],
  ] as const)('%s: the runner\'s message, the catalog entry, exit 1, nothing left', async (name, job, log, message, catalog) => {
    const scenario = loadScenario(name)
    // Slow scheduling must stay slower than the (shrunk) poll_timeout however loaded the machine is.
    if (name === 'slow-scheduling') scenario.knobs.scheduling = { delayMs: 3_600_000 }
    const sim = await start(scenario)
    try {
      const r = await runOnSim(sim, job, { ciFile, live: true, vars: [AUTH], clock: scaledClock(0.002) })
      expect(r.result?.exitCode).toBe(1)
      const failure = r.result!.live!.failure!
      expect(failure.message.startsWith(message)).toBe(true)
      expect(failure.message.endsWith(RUNNER_HINT)).toBe(true)
      expect(failure.ref).toBe(catalog)
      expect(r.out).toMatch(log)
      expect(r.result?.live?.cleanup.left).toEqual([])
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job --live on the simulator: interrupted at each stage', () => {
  it.each([
    ['prepare', 'slow'],
    ['pre-build', 'test'],
    ['build', 'slow'],
    ['post-build', 'test'],
  ] as const)('interrupted during %s: cleanup runs, exit 130, nothing left', async (at, job) => {
    const scenario = loadScenario('healthy')
    if (at === 'prepare') scenario.knobs.scheduling = { delayMs: 3_600_000 } // never within the test (the scenario clock runs 100× fast)
    const sim = await start(scenario)
    const ac = new AbortController()
    const stages: string[] = []
    try {
      const r = await runOnSim(sim, job, {
        ciFile, live: true, vars: [AUTH], artifactsDir: mkdtempSync(path.join(os.tmpdir(), 'gkr-art-')), signal: ac.signal,
        onStage: (s: Stage, state) => {
          stages.push(`${s}:${state}`)
          if (s === at && state === 'start' && at !== 'prepare' && at !== 'build') ac.abort(new Error('interrupted by SIGINT'))
        },
        onWrite: (t) => {
          if ((at === 'prepare' && t.includes('Waiting for pod')) || (at === 'build' && t.includes('sleeping'))) ac.abort(new Error('interrupted by SIGINT'))
        },
      })
      expect(r.error?.code).toBe('interrupted')
      expect(r.error?.exit).toBe(130)
      expect(r.error?.message).toBe('interrupted; every object gkr created was deleted')
      expect(stages).toContain(`${at}:failed`)
      expect(stages.slice(-2)).toEqual(['cleanup:start', 'cleanup:done'])
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })

  it('a second interrupt during cleanup abandons it and says what is left and how to remove it; that command works', async () => {
    const sim = await start('healthy')
    const ac = new AbortController()
    const ledger = new CleanupLedger()
    try {
      const r = await runOnSim(sim, 'slow', {
        ciFile, live: true, vars: [AUTH], signal: ac.signal, ledger,
        onWrite: (t) => void (t.includes('sleeping') && ac.abort(new Error('interrupted by SIGINT'))),
        onStage: (s, state) => void (s === 'cleanup' && state === 'start' && ledger.abandon()),
      })
      expect(r.error?.exit).toBe(130)
      expect(r.out).toMatch(/Cleanup was abandoned; left in the cluster:\n {2}Pod gitlab-runner\/runner-[a-z0-9-]+: cleanup abandoned\n {2}Secret gitlab-runner\/runner-[a-z0-9-]+: cleanup abandoned\nRemove them with:\n {2}kubectl delete --ignore-not-found -n gitlab-runner pod\/runner-[a-z0-9-]+ secret\/runner-[a-z0-9-]+\n/)
      expect(r.error?.message).toMatch(/^interrupted; 2 object\(s\) left: kubectl delete --ignore-not-found -n gitlab-runner pod\//)
      expect((await listedIn(sim)).filter((n) => n.includes('runner-'))).toHaveLength(2)
      // Even abandoned, the secret is owned by the pod (set as soon as the pod existed): the GC removes it with the pod.
      const secret = sim.store.list(RESOURCES.find((x) => x.resource === 'secrets')!, 'gitlab-runner').find((o) => o.metadata.name!.startsWith('runner-'))!
      const pod = sim.store.list(RESOURCES.find((x) => x.resource === 'pods')!, 'gitlab-runner')[0]!
      expect(secret.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid }])
      // The printed command, run as printed (with the admin kubeconfig), removes what was left.
      const command = /kubectl (delete [^\n]+)/.exec(r.out)![1]!.split(' ')
      await promisify(execFile)('kubectl', ['--kubeconfig', sim.kubeconfigFor('admin'), ...command], { env: { ...process.env, HOME: mkdtempSync(path.join(os.tmpdir(), 'gkr-kh-')) } })
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job dry-run on the simulator (in-process)', () => {
  it.each([
    ['healthy', 0, undefined],
    ['readonly-rootfs-policy', 1, 'error-only-read-only-root-filesystem-container-is-allowed'],
    ['webhook-deny', 1, 'webhook-denied'],
    ['quota-cpu-memory', 1, 'quota-exceeded'],
    ['limitrange-conflict', 1, 'limit-range-violation'],
  ] as const)('%s: exit %i, catalog %s, every object submitted in order, nothing persisted', async (scenario, code, catalog) => {
    const sim = await start(scenario)
    try {
      const r = await runOnSim(sim, 'build', { ciFile, vars: [AUTH] })
      expect(r.result?.exitCode).toBe(code)
      expect(r.result?.unsupported).toEqual(['needs'])
      const steps = r.result!.dryRun!.steps
      expect(steps.map((s) => s.kind)).toEqual(['Secret', 'Pod'])
      const submitted = sim.audit.filter((e) => e.verb === 'create' && e.dryRun).map((e) => e.resource)
      expect(submitted).toEqual(['secrets', 'pods'])
      const rejected = steps.filter((s) => !s.accepted)
      if (catalog) {
        expect(rejected.map((s) => s.explanation?.id)).toEqual([catalog])
        expect(r.out).toContain(`catalog: ${catalog}`)
        expect(r.out).toMatch(/ {9}fix: \S/)
      } else expect(rejected).toEqual([])
      expect(r.out).not.toContain(CANARY)
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('--output json prints the objects as a JSON array with the secret redacted', async () => {
    const sim = await start('healthy')
    try {
      const r = await runOnSim(sim, 'build', { ciFile, vars: [AUTH], output: 'json' })
      const json = r.out.slice(r.out.indexOf('['), r.out.lastIndexOf(']') + 1)
      const objects = JSON.parse(json) as Array<{ kind: string; data?: Record<string, string>; spec?: { containers: Array<{ name: string }> } }>
      expect(objects.map((o) => o.kind)).toEqual(['Secret', 'Pod'])
      expect(Object.values(objects[0]!.data!)).toEqual(['[REDACTED]'])
      expect(objects[1]!.spec!.containers.map((c) => c.name)).toEqual(['build', 'helper', 'db'])
      // The service is reachable from the build container by its alias (and image name) on localhost.
      expect((objects[1]!.spec as { hostAliases?: unknown }).hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['postgres', 'db'] }])
      expect(r.out).not.toContain(CANARY)
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job input on the simulator', () => {
  it('KUBERNETES_* overwrites apply within the runner\'s allow-list and are refused beyond it', async () => {
    const scenario = loadScenario('healthy')
    scenario.runnerConfig = scenario.runnerConfig.replace('cpu_limit = "1"', 'cpu_limit = "1"\n      cpu_limit_overwrite_max_allowed = "2"')
    const sim = await start(scenario)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-over-'))
    const ci = path.join(dir, '.gitlab-ci.yml')
    writeFileSync(ci, 'big:\n  variables:\n    KUBERNETES_CPU_LIMIT: 1500m\n    KUBERNETES_NAMESPACE_OVERWRITE: elsewhere\n  script: [echo hi]\n')
    try {
      const ok = await runOnSim(sim, 'big', { ciFile: ci, output: 'json' })
      expect(ok.result?.exitCode).toBe(0)
      // namespace_overwrite_allowed is not set: the overwrite is not taken.
      expect(ok.result?.namespace).toBe('gitlab-runner')
      const pod = ok.result!.objects.find((o) => o.kind === 'Pod') as { spec: { containers: Array<{ name: string; resources?: { limits?: Record<string, string> } }> } }
      expect(pod.spec.containers.find((c) => c.name === 'build')?.resources?.limits?.cpu).toBe('1500m')
      const refused = await runOnSim(sim, 'big', { ciFile: ci, vars: ['KUBERNETES_CPU_LIMIT=3'] })
      expect(refused.error?.code).toBe('job-refused')
      expect(refused.error?.exit).toBe(2)
      expect(refused.error?.message).toBe('the runner would refuse this job: couldn\'t prepare overwrites: invalid build limits specified: the resource "cpu" requested "3" is higher than limit allowed "2"')
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })

  it('a git checkout: project files from the repository root (tracked and untracked, .gitignore honoured), CI_COMMIT_* from HEAD', async () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'gkr-repo-'))
    const git = (...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo })
    await git('init', '-q', '-b', 'feature/Login')
    writeFileSync(path.join(repo, '.gitignore'), 'build/\n')
    writeFileSync(path.join(repo, 'tracked.txt'), 'tracked\n')
    await git('add', '.')
    await git('commit', '-q', '-m', 'first')
    writeFileSync(path.join(repo, 'untracked.txt'), 'untracked\n')
    mkdtempSync(path.join(repo, 'build'))
    const ciDir = mkdtempSync(path.join(repo, 'ci-'))
    writeFileSync(path.join(ciDir, '.gitlab-ci.yml'), 'show:\n  script:\n    - echo "$CI_COMMIT_SHA $CI_COMMIT_SHORT_SHA $CI_COMMIT_REF_NAME $CI_COMMIT_REF_SLUG $CI_PROJECT_NAME"\n    - cat tracked.txt untracked.txt\n    - test ! -e build\n')
    const sha = (await git('rev-parse', 'HEAD')).stdout.trim()
    const sim = await start('healthy')
    try {
      const r = await runOnSim(sim, 'show', { ciFile: path.join(ciDir, '.gitlab-ci.yml'), live: true })
      expect(r.result?.exitCode).toBe(0)
      expect(r.out).toContain(`${sha} ${sha.slice(0, 8)} feature/Login feature-login ${path.basename(repo)}\n`)
      expect(r.out).toContain('tracked\nuntracked\n')
      await expectNothingLeft(sim)
    } finally {
      await sim.stop()
    }
  })

  it.each([
    ['downstream:\n  trigger: { project: group/other }\n', 'job-is-trigger', /job downstream is a trigger job/],
    ['noscript:\n  image: alpine\n', 'job-without-script', /^job noscript has no script \(GitLab rejects a job without script:, run: or trigger:\)$/],
    ['steps:\n  run:\n    - name: hello\n      script: echo hi\n', 'job-without-script', /^job steps has no script: it uses CI steps \(run:\), which gkr run-job does not run$/],
  ])('refuses a job there is nothing to run for, with its location: %s', async (text, code, message) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-bad-'))
    const ci = path.join(dir, '.gitlab-ci.yml')
    writeFileSync(ci, `ok:\n  script: [echo]\n${text}`)
    const job = text.split(':')[0]!
    await expect(runJobInput({ job, 'ci-file': ci, config: path.join(ROOT, 'examples', 'config.toml'), live: false, output: 'yaml' })).rejects.toMatchObject({ code, exit: 2, message: expect.stringMatching(message), at: { file: ci, line: 3, column: 1 } })
  })
})

describe('run-job on an unreachable API server (apiserver-overloaded)', () => {
  it.each([false, true])('live=%s: exit 3 with one line saying the cluster cannot be reached, nothing created', async (live) => {
    const sim = await start('apiserver-overloaded')
    try {
      const r = await runOnSim(sim, 'test', { ciFile, live })
      expect(r.error?.exit).toBe(3)
      expect(r.error?.code).toBe('cluster-unreachable')
      expect(r.error?.message).toMatch(/cannot reach the cluster: /)
      expect(r.error?.message).not.toContain('\n')
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})

describe('run-job dry-run makes no persistent write on any scenario (audit log)', () => {
  it.concurrent.each(builtinScenarios().map((s) => [s.name] as const))('%s', async (name) => {
    const sim = await start(name)
    try {
      const r = await runOnSim(sim, 'build', { ciFile, vars: [AUTH] })
      expect(r.result?.exitCode ?? r.error?.exit).toBeOneOf([0, 1, 3])
      expect(sim.audit.some((e) => e.verb === 'create' && e.dryRun) || r.error !== undefined).toBe(true)
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})
