import { describe, expect, it } from 'vitest'
import { parseConfigText } from '../../src/config/load.js'
import { buildRbac, requiredPermissions, type Permission } from '../../src/executor/permissions.js'
import { rbacYaml, rbacHelmValues } from '../../src/executor/rbac-yaml.js'
import { runCli, ROOT } from '../helpers/cli.js'
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
  ])('%s appears with its setting and not without', (_n, kubeOn, ffOn, resource, verb, group) => {
    expect(has(requiredPermissions(runnerWith(kubeOn, ffOn)), resource, verb, group)).toBe(true)
    const off = resource === 'events' && verb === 'list' ? runnerWith('print_pod_warning_events = false') : resource === 'pods/attach' ? runnerWith('', 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true') : runnerWith()
    expect(has(requiredPermissions(off), resource, verb, group)).toBe(false)
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
  it('prints a commented Role; --json returns the objects', () => {
    const r = runCli(['rbac', '-c', path.join(ROOT, 'examples', 'config.toml')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^apiVersion: rbac.authorization.k8s.io\/v1\nkind: Role\nmetadata:\n {2}name: gitlab-runner\n {2}namespace: gitlab-runner\n/)
    expect(r.stdout).toMatch(/- "watch" # streams pod events into the job log; when FF_PRINT_POD_EVENTS=true/)
    const j = JSON.parse(runCli(['rbac', '-c', path.join(ROOT, 'examples', 'config.toml'), '--json']).stdout)
    expect(j.result.objects[0].kind).toBe('Role')
    expect(j.result.objects[0].rules[0]).toEqual({ apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'delete', 'list', 'watch'] })
  })

  it('asks which runner when the file has several', () => {
    const r = runCli(['rbac', '-c', path.join(ROOT, 'examples', 'multi-runner.toml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--runner: .* has 2 Kubernetes runners \(linux, windows\)/)
  })
})
