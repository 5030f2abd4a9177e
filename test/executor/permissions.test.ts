import { describe, expect, it } from 'vitest'
import { parseConfigText } from '../../src/config/load.js'
import { parseAllDocuments } from 'yaml'
import { buildRbac, requiredPermissions, DOCUMENTED_ROLE, type Permission } from '../../src/executor/permissions.js'
import { rbacYaml, rbacHelmValues } from '../../src/executor/rbac-yaml.js'
import Rbac from '../../src/commands/rbac.js'
import { ROOT } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

function runnerWith(kube = '', flags = ''): ReturnType<typeof parseConfigText>['runners'][number] {
  return parseConfigText(`[[runners]]\nname = "r"\nexecutor = "kubernetes"\n[runners.feature_flags]\n${flags}\n[runners.kubernetes]\nnamespace = "ci"\n${kube}\n`, '/x/config.toml').runners[0]!
}

const has = (perms: Permission[], resource: string, verb: string, group = ''): boolean => perms.some((p) => p.apiGroup === group && p.resource === resource && p.verb === verb)
const verbsOf = (perms: Permission[], resource: string, group = ''): string[] => perms.filter((p) => p.apiGroup === group && p.resource === resource && !p.grantedByDefault).map((p) => p.verb).sort()

/** The Role published on GitLab's Kubernetes executor page (seed 004), every condition switched on. */
const DOCUMENTED: Record<string, string[]> = {
  events: ['list', 'watch'],
  namespaces: ['create', 'delete'],
  pods: ['create', 'delete', 'get', 'list', 'watch'],
  'pods/attach': ['create', 'delete', 'get', 'patch'],
  'pods/exec': ['create', 'delete', 'get', 'patch'],
  'pods/log': ['get', 'list'],
  secrets: ['create', 'delete', 'get', 'update'],
  serviceaccounts: ['get'],
  services: ['create', 'get'],
}

describe('the permission table', () => {
  it('default config: the documented Role minus what is conditional and off, with the known code-vs-docs differences', () => {
    const perms = requiredPermissions(runnerWith())
    const got = Object.fromEntries(Object.keys(DOCUMENTED).map((r) => [r, verbsOf(perms, r)]))
    expect(got).toEqual({
      events: ['list'], // print_pod_warning_events defaults to true; watch needs FF_PRINT_POD_EVENTS
      namespaces: [], // namespace_per_job off
      pods: ['create', 'delete', 'get', 'list', 'watch'],
      'pods/attach': ['create', 'delete', 'get', 'patch'],
      'pods/exec': ['create', 'delete', 'get', 'patch'],
      'pods/log': [], // code: only with honor-entrypoint / reachability / concrete / CI_DEBUG_SERVICES
      secrets: ['create', 'delete', 'get', 'update'],
      serviceaccounts: [], // code: only with the resource availability check, off by default
      services: [], // code: only for images that declare ports
    })
  })

  it('with every condition on, it covers the documented Role except pods/log list, which the runner never calls', () => {
    const perms = requiredPermissions(
      runnerWith('namespace_per_job = true\nservice_account = "sa"\nresource_availability_check_max_attempts = 3', 'FF_PRINT_POD_EVENTS = true\nFF_KUBERNETES_HONOR_ENTRYPOINT = true'),
      { ports: true },
    )
    for (const [resource, verbs] of Object.entries(DOCUMENTED)) {
      const expected = resource === 'pods/log' ? ['get'] : verbs
      expect(verbsOf(perms, resource), resource).toEqual([...expected].sort())
    }
  })

  it.each([
    ['events watch', '', 'FF_PRINT_POD_EVENTS = true', 'events', 'watch', ''],
    ['events list', 'print_pod_warning_events = true', '', 'events', 'list', ''],
    ['namespaces create', 'namespace_per_job = true', '', 'namespaces', 'create', ''],
    ['pods/attach (attach strategy)', '', 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = false', 'pods/attach', 'create', ''],
    ['pods/log (honor entrypoint)', '', 'FF_KUBERNETES_HONOR_ENTRYPOINT = true', 'pods/log', 'get', ''],
    ['pods/log (reachability)', '', 'FF_WAIT_FOR_POD_TO_BE_REACHABLE = true', 'pods/log', 'get', ''],
    ['serviceaccounts get', 'service_account = "sa"\nresource_availability_check_max_attempts = 2', '', 'serviceaccounts', 'get', ''],
    ['poddisruptionbudgets', 'pod_disruption_budget = true', '', 'poddisruptionbudgets', 'create', 'policy'],
    ['configmaps (suspend)', '', 'FF_SUSPENDABLE_ENVIRONMENTS = true', 'configmaps', 'create', ''],
    ['deployments (autoscaler)', '[runners.kubernetes.autoscaler]\nmax_pause_pods = 2', '', 'deployments', 'create', 'apps'],
    ['priorityclasses (autoscaler)', '[runners.kubernetes.autoscaler]\nmax_pause_pods = 2', '', 'priorityclasses', 'create', 'scheduling.k8s.io'],
    ['pods/log (FF_CONCRETE)', '', 'FF_CONCRETE = true', 'pods/log', 'get', ''],
    ['namespaces get (suspend)', '', 'FF_SUSPENDABLE_ENVIRONMENTS = true', 'namespaces', 'get', ''],
    ['persistentvolumeclaims (suspend)', '', 'FF_SUSPENDABLE_ENVIRONMENTS = true', 'persistentvolumeclaims', 'create', ''],
    ['poddisruptionbudgets get', 'pod_disruption_budget = true', '', 'poddisruptionbudgets', 'get', 'policy'],
  ])('%s appears with its setting and not without', (_n, kubeOn, ffOn, resource, verb, group) => {
    expect(has(requiredPermissions(runnerWith(kubeOn, ffOn)), resource, verb, group)).toBe(true)
    const off = resource === 'events' && verb === 'list' ? runnerWith('print_pod_warning_events = false') : resource === 'pods/attach' ? runnerWith('', 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true') : runnerWith()
    expect(has(requiredPermissions(off), resource, verb, group)).toBe(false)
  })

  it('serviceaccounts get needs both service_account and the availability check', () => {
    expect(has(requiredPermissions(runnerWith('service_account = "sa"')), 'serviceaccounts', 'get')).toBe(false)
    expect(has(requiredPermissions(runnerWith('resource_availability_check_max_attempts = 2')), 'serviceaccounts', 'get')).toBe(false)
  })

  it('services create/get appear for a job image or service with ports, and pods/log for CI_DEBUG_SERVICES in attach mode', () => {
    expect(verbsOf(requiredPermissions(runnerWith(), { ports: true }), 'services')).toEqual(['create', 'get'])
    expect(verbsOf(requiredPermissions(runnerWith(), { ports: false }), 'services')).toEqual([])
    expect(has(requiredPermissions(runnerWith(), { debugServices: true }), 'pods/log', 'get')).toBe(true)
    expect(has(requiredPermissions(runnerWith('', 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true'), { debugServices: true }), 'pods/log', 'get')).toBe(false)
    // The same variable set for every job in [[runners]] environment.
    const env = parseConfigText('[[runners]]\nname = "r"\nexecutor = "kubernetes"\nenvironment = ["CI_DEBUG_SERVICES=true"]\n[runners.kubernetes]\nnamespace = "ci"\n', '/x/c.toml').runners[0]!
    expect(has(requiredPermissions(env), 'pods/log', 'get')).toBe(true)
  })

  it('the printed default Role is the documented one minus what is off, and names every left-out verb with the reason', () => {
    const objs = buildRbac(requiredPermissions(runnerWith()), { namespace: 'ci' })
    const text = rbacYaml(objs)
    const [role] = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> })
    const printed = Object.fromEntries(role!.rules.map((r) => [r.resources[0]!, [...r.verbs].sort()]))
    expect(printed).toEqual({ events: ['list'], pods: ['create', 'delete', 'get', 'list', 'watch'], 'pods/attach': ['create', 'delete', 'get', 'patch'], 'pods/exec': ['create', 'delete', 'get', 'patch'], secrets: ['create', 'delete', 'get', 'update'] })
    // Everything of the documented Role is either printed or named in a comment with its reason.
    for (const [resource, verbs] of Object.entries(DOCUMENTED)) {
      for (const verb of verbs) if (!printed[resource]?.includes(verb)) expect(text, `${resource} ${verb}`).toMatch(new RegExp(`#   ${resource.replace('/', '\\/')} ${verb}: (only when|the runner never makes this call)`))
    }
    expect(text).toContain('#   pods/log list: the runner never makes this call')
    expect(text).toContain('#   serviceaccounts get: only when service_account set and resource_availability_check_max_attempts > 0')
    // Rules that follow the code rather than the docs say so in their comment.
    expect(text).toMatch(/- "list" # prints the pod's warning events when a job fails; when print_pod_warning_events=true \(the default\) \(the docs call it conditional, but the setting is on by default\)/)
    // gkr's own copy of the documented Role matches the one this test pins.
    expect(DOCUMENTED_ROLE).toEqual(DOCUMENTED)
  })

  it('with every condition on, nothing is left out but pods/log list', () => {
    const perms = requiredPermissions(runnerWith('namespace_per_job = true\nservice_account = "sa"\nresource_availability_check_max_attempts = 3', 'FF_PRINT_POD_EVENTS = true\nFF_KUBERNETES_HONOR_ENTRYPOINT = true'), { ports: true })
    expect(buildRbac(perms, { namespace: 'ci' }).leftOut).toEqual([{ resource: 'pods/log', verb: 'list', why: 'the runner never makes this call' }])
    expect(rbacYaml(buildRbac(perms, { namespace: 'ci' }))).toMatch(/- "get" # checks the service account exists before creating the pod; when .* \(code differs from the docs: only with the availability check, and never `list`\)/)
  })

  it('chooses a ClusterRole when namespace_per_job needs cluster-scoped verbs', () => {
    expect(buildRbac(requiredPermissions(runnerWith()), { namespace: 'ci' }).kind).toBe('Role')
    const objs = buildRbac(requiredPermissions(runnerWith('namespace_per_job = true')), { namespace: 'ci', withBinding: true })
    expect(objs.kind).toBe('ClusterRole')
    const yaml = rbacYaml(objs)
    expect(yaml).toContain('kind: ClusterRoleBinding')
    expect(yaml).toMatch(/- "create" # creates the per-job namespace ci-job-<id>; when namespace_per_job=true/)
    expect(rbacHelmValues(objs)).toContain('clusterWideAccess: true')
  })
})

describe('gkr rbac', () => {
  const file = (toml: string): string => {
    const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'gkr-rbac-')), 'config.toml')
    writeFileSync(f, toml)
    return f
  }

  it('prints a commented Role; --json returns the objects', async () => {
    const r = await runCommand(Rbac, ['-c', path.join(ROOT, 'examples', 'config.toml')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^apiVersion: rbac.authorization.k8s.io\/v1\nkind: Role\nmetadata:\n {2}name: gitlab-runner\n {2}namespace: gitlab-runner\n/)
    expect(r.stdout).toMatch(/- "watch" # streams pod events into the job log; when FF_PRINT_POD_EVENTS=true/)
    const j = JSON.parse((await runCommand(Rbac, ['-c', path.join(ROOT, 'examples', 'config.toml'), '--json'])).stdout)
    expect(j.result.objects[0].kind).toBe('Role')
    expect(j.result.objects[0].rules[0]).toEqual({ apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'delete', 'list', 'watch'] })
  })

  it('--with-binding adds the ServiceAccount and RoleBinding; namespace_per_job makes it a ClusterRole and ClusterRoleBinding', async () => {
    const role = await runCommand(Rbac, ['-c', file('[[runners]]\nname = "r"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nservice_account = "builder"\n'), '--with-binding', '--format', 'json'])
    expect(JSON.parse(role.stdout)).toMatchObject({ apiVersion: 'v1', kind: 'List' })
    expect(JSON.parse(role.stdout).items.map((o: { kind: string; metadata: { name: string; namespace?: string } }) => [o.kind, o.metadata.name, o.metadata.namespace])).toEqual([['Role', 'gitlab-runner', 'ci'], ['ServiceAccount', 'builder', 'ci'], ['RoleBinding', 'gitlab-runner', 'ci']])
    const cluster = await runCommand(Rbac, ['-c', file('[[runners]]\nname = "r"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nnamespace_per_job = true\n'), '--with-binding'])
    const docs = parseAllDocuments(cluster.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; subjects?: unknown[] })
    expect(docs.map((d) => d.kind)).toEqual(['ClusterRole', 'ServiceAccount', 'ClusterRoleBinding'])
    expect(docs[0]!.metadata.namespace).toBeUndefined()
    expect(docs[2]!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'gitlab-runner', namespace: 'ci' }])
  })

  it('--format helm prints the chart\'s rbac values block with the same commented rules', async () => {
    const r = await runCommand(Rbac, ['-c', file('[[runners]]\nname = "r"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\n'), '--format', 'helm'])
    expect(r.code).toBe(0)
    const values = parseAllDocuments(r.stdout)[0]!.toJS() as { rbac: { create: boolean; clusterWideAccess?: boolean; rules: Array<{ resources: string[]; verbs: string[] }> } }
    expect(values.rbac.create).toBe(true)
    expect(values.rbac.clusterWideAccess).toBeUndefined()
    expect(values.rbac.rules.map((x) => x.resources[0])).toEqual(['pods', 'pods/exec', 'pods/attach', 'secrets', 'events'])
    expect(r.stdout).toContain('      - "create" # creates the build pod')
  })

  it('Helm values: the Role lands in the release namespace (HELM_NAMESPACE) and the assumption is a warning', async () => {
    const r = await runCommand(Rbac, ['-c', path.join(ROOT, 'examples', 'values.yaml'), '--json'], { env: { HELM_NAMESPACE: 'runners' } })
    const j = JSON.parse(r.stdout)
    expect(j.result.objects[0].metadata).toEqual({ name: 'gitlab-runner', namespace: 'runners' })
    expect(j.warnings).toEqual(['runners.config uses {{ .Release.Namespace }}: assumed "runners" (from HELM_NAMESPACE)'])
  })

  it('--ci-file adds what the jobs need: services for ports, pods/log get for CI_DEBUG_SERVICES; --job narrows it to one job', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-rbac-ci-'))
    const ciFile = path.join(dir, '.gitlab-ci.yml')
    writeFileSync(ciFile, 'e2e:\n  image:\n    name: node:22\n    ports: [3000]\n  script: [true]\ndebug:\n  variables:\n    CI_DEBUG_SERVICES: "true"\n  services: [redis:7]\n  script: [true]\nplain:\n  script: [true]\n')
    const cfg = file('[[runners]]\nname = "r"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "ci"\nimage = "alpine"\n')
    const rules = async (args: string[]): Promise<string[]> => (JSON.parse((await runCommand(Rbac, ['-c', cfg, '--format', 'json', ...args])).stdout) as { items: Array<{ rules: Array<{ resources: string[]; verbs: string[] }> }> }).items[0]!.rules.map((r) => `${r.resources[0]}:${r.verbs.join(',')}`)
    expect(await rules(['--ci-file', ciFile])).toEqual(expect.arrayContaining(['services:create,get', 'pods/log:get']))
    expect(await rules(['--ci-file', ciFile, '--job', 'e2e'])).toEqual(expect.arrayContaining(['services:create,get']))
    expect((await rules(['--ci-file', ciFile, '--job', 'e2e'])).some((r) => r.startsWith('pods/log'))).toBe(false)
    const plain = await rules(['--ci-file', ciFile, '--job', 'plain'])
    expect(plain.some((r) => r.startsWith('services') || r.startsWith('pods/log'))).toBe(false)
    const noCi = await runCommand(Rbac, ['-c', cfg, '--job', 'e2e'])
    expect(noCi.code).toBe(2)
    expect(noCi.stderr).toContain('--job needs --ci-file')
  })

  it('asks which runner when the file has several', async () => {
    const r = await runCommand(Rbac, ['-c', path.join(ROOT, 'examples', 'multi-runner.toml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--runner: .* has 2 Kubernetes runners \(linux, windows\)/)
  })
})
