import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import Render from '../../src/commands/render.js'
import { runCommand } from '../helpers/run-command.js'
import { parseConfigText } from '../../src/config/load.js'
import type { CiJob } from '../../src/ci/types.js'
import { jobUrl, renderJob } from '../../src/executor/render.js'
import { idNotAllowed } from '../../src/executor/user.js'

const runner = (kube: string, extra = ''): ReturnType<typeof parseConfigText>['runners'][number] =>
  parseConfigText(`[[runners]]\nname = "r"\ntoken = "glrt-abcdefghijk"\nexecutor = "kubernetes"\n${extra}\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\n${kube}\n`, '/x/config.toml').runners[0]!
const job = (over: Partial<CiJob> = {}): CiJob => ({ name: 'test', stage: 'test', services: [], variables: {}, before_script: [], script: ['true'], after_script: [], cache: [], artifacts: { paths: [] }, unsupported: [], ...over })
const init = (r: ReturnType<typeof renderJob>) => r.pod.spec!.initContainers!.find((c) => c.name === 'init-permissions')!

describe('Windows pods', () => {
  const windows = '[runners.kubernetes.node_selector]\n"kubernetes.io/os" = "windows"'
  it('init-permissions grants Everyone on the logs and builds folders with the runner shell, one icacls per line', () => {
    const r = renderJob({ runner: runner(windows, 'shell = "pwsh"'), job: job(), projectId: 7, jobId: 42 })
    expect(init(r).command).toEqual([
      'pwsh',
      '-c',
      `icacls $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath("/logs-7-42") /grant 'Everyone:(OI)(CI)F' /q | out-null;\nicacls $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath("C:\\\\builds") /grant 'Everyone:(OI)(CI)F' /q | out-null`,
    ])
    expect(r.pod.spec!.containers[0]!.command![0]).toBe('pwsh')
  })

  it('Windows PowerShell (shell = "powershell") starts build and helper with -Command - and no dumb-init', () => {
    const r = renderJob({ runner: runner(windows, 'shell = "powershell"\n[runners.feature_flags]\nFF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR = true'), job: job() })
    for (const c of r.pod.spec!.containers.slice(0, 2)) expect(c.command!.slice(-3)).toEqual(['Bypass', '-Command', '-'])
    expect(init(r).command![0]).toBe('powershell')
  })

  it('a job overwrite of kubernetes.io/os to windows makes a Windows pod (helper image, no default capabilities)', () => {
    const r = renderJob({ runner: runner('node_selector_overwrite_allowed = ".*"'), job: job({ variables: { KUBERNETES_NODE_SELECTOR_OS: 'kubernetes.io/os=windows' } }) })
    expect(r.pod.spec!.containers[1]!.image).toMatch(/-servercore21H2$/)
    expect(r.pod.spec!.containers[0]!.securityContext).toBeUndefined()
  })

  it('an unsupported kubernetes.io/os fails Prepare, also through an overwrite, even with helper_image set', () => {
    const r = renderJob({ runner: runner('helper_image = "my/helper"\nnode_selector_overwrite_allowed = ".*"'), job: job({ variables: { KUBERNETES_NODE_SELECTOR_OS: 'kubernetes.io/os=freebsd' } }) })
    expect(r.problems).toContainEqual(expect.objectContaining({ message: 'prepare helper image: unsupported OSType "freebsd"', fatal: true }))
  })
})

describe('the job URL annotation', () => {
  it.each([
    ['https://gitlab-ci-token:[MASKED]@gitlab.example.com/group/project.git', 'https://gitlab.example.com/group/project/-/jobs/9'],
    ['https://gitlab.example.com/group/project', 'https://gitlab.example.com/group/project/-/jobs/9'],
    ['', '/-/jobs/9'],
  ])('%s → %s', (repo, url) => {
    expect(jobUrl(repo, 9)).toBe(url)
  })

  it('render builds it from CI_REPOSITORY_URL, never printing the credentials in it', () => {
    const r = renderJob({ runner: runner(''), job: job(), jobId: 5, variables: { CI_REPOSITORY_URL: 'https://gitlab-ci-token:s3cr3t@gitlab.example.com/g/p.git' } })
    expect(r.pod.metadata!.annotations!['job.runner.gitlab.com/url']).toBe('https://gitlab.example.com/g/p/-/jobs/5')
  })
})

describe('job users', () => {
  it('root needs an explicit 0 in the list, however it is spelled', () => {
    for (const id of ['0', '00', '-0', '+0']) expect(idNotAllowed(id, 'user', []), id).toBe(`user ${JSON.stringify(id)} is not in the allowed list: []`)
    expect(idNotAllowed('000', 'user', ['0'])).toBeUndefined()
  })

  it('the service user comes from the service, and variables in it expand', () => {
    const r = renderJob({ runner: runner(''), job: job({ variables: { UID: '1234' }, services: [{ name: 'postgres', kubernetes: { user: '$UID:5' } }] }) })
    const svc = r.pod.spec!.containers.find((c) => c.name === 'svc-0')!
    expect(svc.securityContext).toMatchObject({ runAsUser: 1234, runAsGroup: 5 })
    expect(r.pod.spec!.containers[0]!.securityContext!.runAsUser).toBeUndefined()
  })

  it('a refused root user is a warning, not a failure, and the container keeps the image user', () => {
    const r = renderJob({ runner: runner(''), job: job({ image: { name: 'alpine', kubernetes: { user: '0' } } }) })
    expect(r.problems).toEqual([expect.objectContaining({ fatal: false, message: `Error parsing 'uid' from image options for container "build", using the configured security context: validating UID: user "0" is not in the allowed list: []` })])
    expect(r.pod.spec!.containers[0]!.securityContext!.runAsUser).toBeUndefined()
  })
})

describe('PodDisruptionBudget', () => {
  it('is named after the pod, created right after it with an ownerReference, and in the objects', () => {
    const r = renderJob({ runner: runner('pod_disruption_budget = true'), job: job() })
    expect(r.podDisruptionBudget!.metadata!.name).toBe(`${r.pod.metadata!.name}-pdb`)
    expect(r.order.map((o) => o.kind)).toEqual(['Pod', 'PodDisruptionBudget'])
    expect(r.order[1]!.owner).toBe('with-create')
    expect(r.objects.map((o) => o.kind)).toEqual(['Pod', 'PodDisruptionBudget'])
  })
})

describe('render --job-id --project-id --concurrent-id --runner-token', () => {
  const CANARY = 'glrt-t3_CanaryTok3nNeverPrinted'
  const config = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-identity-'))
    const file = path.join(dir, 'config.toml')
    writeFileSync(file, '[[runners]]\nname = "r"\ntoken = "glrt-configtokenxyz"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\n')
    return file
  }

  it('names, mounts, labels and annotations are the job\'s; the token never prints, in text or JSON', async () => {
    const file = config()
    const args = ['-c', file, '--job-id', '4711', '--project-id', '42', '--concurrent-id', '3', '--runner-token', CANARY]
    const text = await runCommand(Render, args)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/name: runner-canarytok-project-42-concurrent-3-[a-z0-9]{8}\n/)
    expect(text.stdout).toContain('mountPath: /scripts-42-4711\n')
    expect(text.stdout).toContain('job.runner.gitlab.com/id: "4711"')
    expect(text.stdout).toContain('project.runner.gitlab.com/id: "42"')
    expect(text.stdout).toContain('manager.runner.gitlab.com/id-short: CanaryTok')
    const json = await runCommand(Render, [...args, '--json'])
    expect(JSON.parse(json.stdout).result.pod.metadata.labels.pod).toBe('runner-canarytok-project-42-concurrent-3')
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(out).not.toContain(CANARY)
      expect(out).not.toContain('CanaryTok3nNeverPrinted')
    }
  })

  it.each([
    [['--job-id', 'x'], '--job-id'],
    [['--project-id', '-1'], '--project-id'],
    [['--runner-token', ' '], '--runner-token'],
  ])('bad input %j exits 2 with one paragraph naming %s', async (bad, flag) => {
    const r = await runCommand(Render, ['-c', config(), ...bad])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(flag)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('render shows the Pod Security level the pod meets', () => {
  it('in the header and the JSON result', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-pss-'))
    const file = path.join(dir, 'config.toml')
    writeFileSync(file, '[[runners]]\nname = "r"\ntoken = "glrt-configtokenxyz"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine:3.20"\nprivileged = true\n')
    const text = await runCommand(Render, ['-c', file])
    expect(text.stdout).toContain('# Pod Security: the pod meets privileged; not baseline (privileged); not restricted (privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile)\n')
    const json = JSON.parse((await runCommand(Render, ['-c', file, '--json'])).stdout)
    expect(json.result.podSecurity.level).toBe('privileged')
  })
})
