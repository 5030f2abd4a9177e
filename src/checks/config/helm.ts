/**
 * Checks of Helm chart values against what the GitLab Runner chart does with them: the runners.config
 * template as `register --template-config` merges it, legacy chart keys, the Role the chart creates,
 * and the manager Deployment.
 */
import { defineCheck, type CheckContext, type FindingInput } from '../types.js'
import { isObject, kube } from '../../config/load.js'
import { GLOBAL_FIELDS } from '../../config/schema.js'
import {
  CHART_DEFAULT_GRACE_SECONDS,
  CHART_GLOBAL_VALUES,
  GITLAB_DEFAULT_JOB_TIMEOUT_SECONDS,
  LEGACY_KEYS,
  LEGACY_REMOVED_IN_CHART,
  REGISTRATION_ONLY_VALUES,
  RUNNER_DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
  chartRules,
  grants,
} from '../../config/chart.js'
import { compareVersions } from '../../config/version.js'
import { requiredPermissions } from '../../executor/permissions.js'
import { permissionsAt, versionedRunner } from '../../config/version-rbac.js'
import { Secret } from '../../util/secret.js'
import { tomlKey, tomlValue } from './util.js'

const valueAt = (values: Record<string, unknown>, path: string): unknown => {
  let cur: unknown = values
  for (const seg of path.split('.')) {
    if (!isObject(cur)) return undefined
    cur = cur[seg]
  }
  return cur
}

/** The chart checks have nothing to look at in a plain config.toml (not installed with the chart): no finding. */
const helmOnly = (ctx: CheckContext): [] | undefined => (ctx.config.helm ? undefined : [])

export const helmTemplate = defineCheck({
  id: 'config-helm-template',
  area: 'config',
  title: 'runners.config holds what the chart and the runner\'s register command take from it',
  description:
    'The chart registers one runner and passes runners.config to `gitlab-runner register --template-config`, which takes exactly one [[runners]] entry and fills only the settings the chart left empty: global keys (concurrent, check_interval, log_level, listen_address, shutdown_timeout, …) are dropped (the chart writes the global section from its own values), the token is cleared, and the chart\'s gitlabUrl and runners.executor win over url and executor.',
  severity: 'warn',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: (ctx) => {
    const skip = helmOnly(ctx)
    if (skip) return skip
    const { config } = ctx
    const helm = config.helm!
    if (!helm.configFromValues) return []
    const out: FindingInput[] = []
    const where = config.helmPath ?? 'runners.config'
    const runners = Array.isArray(config.raw.runners) ? config.raw.runners : []
    if (runners.length !== 1) {
      out.push({
        severity: 'fail',
        message: `${where} has ${runners.length === 0 ? 'no' : runners.length} [[runners]] entr${runners.length === 1 ? 'y' : 'ies'}: the chart registers one runner from it, and register stops with "configuration template must contain exactly one [[runners]] entry"`,
        at: runners.length === 0 ? helm.locate(['runners', 'config']) : config.locate(['runners', 1]),
        fix: { text: runners.length === 0 ? 'Put one [[runners]] table in runners.config.' : 'Keep one [[runners]] entry; install the chart once per runner for more.', toml: '[[runners]]\n  [runners.kubernetes]\n    namespace = "{{.Release.Namespace}}"' },
      })
    }
    for (const key of Object.keys(config.raw)) {
      if (key === 'runners' || key === 'helmValues' || !GLOBAL_FIELDS[key]) continue
      const chart = CHART_GLOBAL_VALUES[key]
      out.push({
        message: `${key} in ${where} is ignored: register takes only the [[runners]] entry, and the chart writes the global section from its own values${chart ? ` (${chart.value})` : ''}`,
        at: config.locate([key]),
        fix: chart ? { text: `Remove it from runners.config and set the chart value ${chart.value} instead.`, yaml: chart.yaml(config.raw[key]) } : { text: `Remove it from runners.config: the chart has no value that sets ${key}.` },
        details: { key, chartValue: chart?.value },
      })
    }
    const first = isObject(runners[0]) ? runners[0] : undefined
    if (first) {
      if (first.token !== undefined && !(first.token instanceof Secret && first.token.reveal() === '')) {
        out.push({ message: `token in ${where} is ignored: register clears the template's token and uses the chart's runnerToken (or the runner-token key of runners.secret)`, at: config.locate(['runners', 0, 'token']), fix: { text: 'Remove the token from runners.config; put it in a Secret named by runners.secret (key runner-token) or in runnerToken.', yaml: 'runners:\n  secret: gitlab-runner' } })
      }
      const executor = typeof first.executor === 'string' ? first.executor : undefined
      const chartExecutor = config.runners[0]?.executor ?? 'kubernetes'
      if (executor !== undefined && executor !== chartExecutor) {
        out.push({ message: `executor = ${JSON.stringify(executor)} in ${where} is overridden: the chart registers with runners.executor (${JSON.stringify(chartExecutor)}${valueAt(helm.values, 'runners.executor') === undefined ? ', its default' : ''})`, at: config.locate(['runners', 0, 'executor']), fix: { text: 'Set the executor with the chart value runners.executor, and remove it from runners.config.', yaml: `runners:\n  executor: ${executor}` } })
      }
      const url = typeof first.url === 'string' ? first.url : undefined
      const gitlabUrl = valueAt(helm.values, 'gitlabUrl')
      if (url !== undefined && typeof gitlabUrl === 'string' && url.replace(/\/+$/, '') !== gitlabUrl.replace(/\/+$/, '')) {
        out.push({ message: `url = ${JSON.stringify(url)} in ${where} is overridden by gitlabUrl (${JSON.stringify(gitlabUrl)}): the chart registers with gitlabUrl`, at: config.locate(['runners', 0, 'url']), fix: { text: 'Set the GitLab URL once, in gitlabUrl; use clone_url in runners.config for a different clone address.', yaml: `gitlabUrl: ${url}` } })
      }
    }
    return out
  },
})

export const helmLegacy = defineCheck({
  id: 'config-helm-legacy',
  area: 'config',
  title: 'No chart values the chart no longer reads',
  description: `Until chart ${LEGACY_REMOVED_IN_CHART} (runner 16.0) the chart turned values such as runners.image, runners.privileged, runners.builds.cpuLimit or runners.cache.cacheType into runner settings; newer charts ignore them silently, so the setting falls back to the runner's default unless runners.config sets it. Tags, locked, run-untagged and protected are registration options that GitLab ignores for runner authentication tokens (glrt-…): they are set on the runner in GitLab.`,
  severity: 'warn',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: (ctx) => {
    const skip = helmOnly(ctx)
    if (skip) return skip
    const { config } = ctx
    const helm = config.helm!
    const out: FindingInput[] = []
    const target = helm.chartVersion
    // Charts before 0.53.0 still read them; a runner older than 16.0 comes with such a chart.
    const runnerTarget = config.runnerVersion?.version
    const stillRead = (target !== undefined && /^v?0\.\d+/.test(target) && compareVersions(target.replace(/^v/, ''), LEGACY_REMOVED_IN_CHART) < 0) || (runnerTarget !== undefined && compareVersions(runnerTarget, '16.0') < 0)
    const readBy = target !== undefined && /^v?0\.\d+/.test(target) ? `chart ${target}` : `the chart of runner ${runnerTarget ?? '?'}`
    const runner = config.runners[0]
    const kubeSettings = runner ? kube(runner) : {}
    // What runners.config itself writes (nothing when the chart's default template was assumed).
    const rawRunner = helm.configFromValues && isObject((config.raw.runners as unknown[] | undefined)?.[0]) ? ((config.raw.runners as unknown[])[0] as Record<string, unknown>) : {}
    const rawKube = isObject(rawRunner.kubernetes) ? rawRunner.kubernetes : {}
    for (const l of LEGACY_KEYS) {
      const v = valueAt(helm.values, l.path)
      if (v === undefined || v === null || v === '') continue
      const [key, sub] = l.toml.key.split('.')
      const written = l.toml.table === '[runners.kubernetes]' ? rawKube[key!] : l.toml.table === '[[runners]]' ? rawRunner[key!] : isObject(rawRunner.cache) ? (sub ? (rawRunner.cache[key!] as Record<string, unknown> | undefined)?.[sub] : rawRunner.cache[key!]) : undefined
      const conflict = written !== undefined && JSON.stringify(written) !== JSON.stringify(v)
      const effective = written ?? (l.toml.table === '[runners.kubernetes]' ? kubeSettings[key!] : l.toml.table === '[[runners]]' ? runner?.settings[key!] : undefined)
      // Harmless when the runner ends up with the same value anyway (a default, or runners.config sets it).
      const same = effective !== undefined && JSON.stringify(effective) === JSON.stringify(v)
      const header = l.toml.table === '[runners.cache]' ? (sub ? `[runners.cache.${key}]` : '[runners.cache]') : l.toml.table
      out.push({
        severity: stillRead || same ? 'info' : 'warn',
        message: stillRead
          ? `${l.path} is read by ${readBy}, but charts from ${LEGACY_REMOVED_IN_CHART} on ignore it: move it to ${l.toml.key} in runners.config before upgrading`
          : `${l.path} is ignored since chart ${LEGACY_REMOVED_IN_CHART}: ${conflict ? `runners.config sets ${l.toml.key} = ${tomlValue(written)}, which is what the runner uses` : written !== undefined ? `runners.config already sets ${l.toml.key} to the same value` : same ? `the runner's default ${l.toml.key} is the same value` : `the runner uses ${effective !== undefined && effective !== '' ? `${l.toml.key} = ${tomlValue(effective)} (its default)` : `no ${l.toml.key}`}`}`,
        at: helm.locate(l.path.split('.')),
        fix: { text: `Remove ${l.path} and set ${l.toml.key} in ${header} of runners.config.`, toml: header === '[[runners]]' ? `[[runners]]\n  ${tomlKey(key!)} = ${tomlValue(v)}` : `[[runners]]\n  ${header}\n    ${tomlKey(sub ?? key!)} = ${tomlValue(v)}` },
        details: { key: l.path, replacement: l.toml.key },
      })
    }
    const token = valueAt(helm.values, 'runnerToken')
    const hasAuthToken = (token instanceof Secret && token.reveal().startsWith('glrt-')) || (typeof token === 'string' && token.startsWith('glrt-'))
    const regToken = valueAt(helm.values, 'runnerRegistrationToken')
    const hasRegToken = (regToken instanceof Secret ? regToken.reveal() : typeof regToken === 'string' ? regToken : '') !== ''
    if (hasRegToken) {
      out.push({
        severity: runnerTarget !== undefined && compareVersions(runnerTarget, '17.0') < 0 ? 'info' : 'warn',
        message: 'runnerRegistrationToken registers the runner with a registration token, which GitLab deprecated in 15.6 and turns off by default from 17.0',
        at: helm.locate(['runnerRegistrationToken']),
        fix: { text: 'Create the runner in GitLab (Settings > CI/CD > Runners, or the API), then give its authentication token (glrt-…) as runnerToken or in the Secret named by runners.secret (key runner-token).', yaml: 'runners:\n  secret: gitlab-runner   # a Secret with the key runner-token' },
      })
    }
    if (hasAuthToken) {
      for (const p of REGISTRATION_ONLY_VALUES) {
        const v = valueAt(helm.values, p)
        if (v === undefined || v === '') continue
        out.push({ message: `${p} is ignored with a runner authentication token (glrt-…): the chart drops it, and tags, locking and run-untagged are set on the runner in GitLab`, at: helm.locate(p.split('.')), fix: { text: `Remove ${p}; set it on the runner in GitLab (Settings > CI/CD > Runners > Edit).` } })
      }
    }
    return out
  },
})

export const helmRbac = defineCheck({
  id: 'config-helm-rbac',
  area: 'config',
  title: 'The Role the chart creates grants what the runner configuration needs',
  description:
    'With rbac.create the chart renders a Role (a ClusterRole with rbac.clusterWideAccess) from rbac.rules; each rule defaults to the core API group, every resource and every verb, and empty rules give one wildcard rule on the core group. Custom rules often lack verbs the executor uses (pods list and watch for the informer, pods/attach, secrets update for the ownerReference), and a namespaced Role can never grant namespaces, which namespace_per_job needs. Checked offline against the same permission table as `gkr rbac`.',
  severity: 'fail',
  needs: [],
  catalog: ['rbac-forbidden'],
  scope: 'global',
  run: (ctx) => {
    const skip = helmOnly(ctx)
    if (skip) return skip
    const { config } = ctx
    const helm = config.helm!
    const runner = config.runners.find((r) => r.executor === 'kubernetes')
    if (!runner) return { skipped: 'no Kubernetes runner' }
    const rbac = isObject(helm.values.rbac) ? helm.values.rbac : {}
    if (rbac.create !== true) {
      const sa = valueAt(helm.values, 'serviceAccount.name') || rbac.serviceAccountName || 'default'
      return [{ severity: 'info', message: `rbac.create is not true: the chart creates no Role, so the service account jobs are created with (${String(sa)}) needs a Role bound from elsewhere`, at: helm.locate(rbac.create === undefined ? ['rbac'] : ['rbac', 'create']), fix: { text: 'Set rbac.create: true, or bind the Role that `gkr rbac -c <values>` prints.', yaml: 'rbac:\n  create: true' } }]
    }
    const rules = chartRules(rbac.rules)
    const clusterWide = rbac.clusterWideAccess === true
    const custom = Array.isArray(rbac.rules) && rbac.rules.length > 0
    const at = helm.locate(custom ? ['rbac', 'rules'] : ['rbac', 'create'])
    const out: FindingInput[] = []
    const versioned = versionedRunner(config, runner)
    const missing = permissionsAt(requiredPermissions(versioned), versioned, config.runnerVersion?.version).filter((p) => !p.grantedByDefault && !grants(rules, p.apiGroup, p.resource, p.verb))
    const byResource = new Map<string, { group: string; verbs: string[]; optional: boolean; reasons: string[] }>()
    for (const p of missing) {
      const key = `${p.apiGroup}/${p.resource}`
      const e = byResource.get(key) ?? { group: p.apiGroup, verbs: [], optional: true, reasons: [] }
      e.verbs.push(p.verb)
      e.optional &&= Boolean(p.optional)
      if (!e.reasons.includes(p.reason)) e.reasons.push(p.reason)
      byResource.set(key, e)
    }
    for (const [key, e] of byResource) {
      const resource = key.slice(key.indexOf('/') + 1)
      out.push({
        severity: e.optional ? 'warn' : 'fail',
        message: `the chart's ${clusterWide ? 'ClusterRole' : 'Role'} lacks ${e.verbs.join(', ')} on ${e.group ? `${e.group}/` : ''}${resource} (${e.reasons.join('; ')})${custom ? '' : ': the default wildcard rule covers the core API group only'}`,
        at,
        fix: { text: `Add a rule to rbac.rules for ${resource}.`, yaml: `rbac:\n  rules:\n    - apiGroups: [${JSON.stringify(e.group)}]\n      resources: [${JSON.stringify(resource)}]\n      verbs: [${e.verbs.map((v) => JSON.stringify(v)).join(', ')}]` },
        details: { resource, apiGroup: e.group, verbs: e.verbs },
      })
    }
    const k = kube(runner)
    if (k.namespace_per_job === true && !clusterWide) {
      out.push({ message: 'namespace_per_job creates a namespace per job, which a namespaced Role cannot grant: the chart creates a Role unless rbac.clusterWideAccess is true', at: helm.locate(['rbac']), fix: { text: 'Set rbac.clusterWideAccess: true (the chart then creates a ClusterRole).', yaml: 'rbac:\n  create: true\n  clusterWideAccess: true' } })
    }
    return out
  },
})

export const helmManager = defineCheck({
  id: 'config-helm-manager',
  area: 'config',
  title: 'The manager Deployment fits the jobs it runs',
  description:
    'The chart runs the runner manager as a Deployment: it must stay on a Linux node (the runner image is Linux-only) even when jobs target Windows nodes, and its terminationGracePeriodSeconds bounds how long running jobs may finish when the manager pod is replaced (an upgrade, a values change): shorter than shutdown_timeout or GitLab\'s default one-hour job timeout, jobs are cut off.',
  severity: 'warn',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: (ctx) => {
    const skip = helmOnly(ctx)
    if (skip) return skip
    const { config } = ctx
    const helm = config.helm!
    const v = helm.values
    const out: FindingInput[] = []
    const windowsJobs = config.runners.some((r) => {
      const sel = kube(r).node_selector
      return isObject(sel) && sel['kubernetes.io/os'] === 'windows'
    })
    const nodeSelector = isObject(v.nodeSelector) ? v.nodeSelector : {}
    if (windowsJobs && nodeSelector['kubernetes.io/os'] !== 'linux' && !hasLinuxAffinity(v.affinity)) {
      const os = nodeSelector['kubernetes.io/os']
      const labels = Object.entries(nodeSelector).map(([k, x]) => `${k}: ${String(x)}`)
      // A selector on other labels (a node pool) keeps the manager where those labels are: on Linux nodes
      // unless a Windows node carries them too, which only the cluster can tell.
      const pool = os === undefined && labels.length > 0
      out.push({
        ...(pool ? { severity: 'info' as const } : {}),
        message: pool
          ? `jobs run on Windows nodes (node_selector kubernetes.io/os = "windows") and the manager pod's nodeSelector (${labels.join(', ')}) does not name an OS: the manager stays on Linux only if no Windows node has those labels`
          : `jobs run on Windows nodes (node_selector kubernetes.io/os = "windows"), but the manager pod has no Linux node selector${os ? ` (nodeSelector sets kubernetes.io/os: ${String(os)})` : ''}: it can be scheduled on a Windows node, where the runner image does not run`,
        at: helm.locate(v.nodeSelector === undefined ? [] : ['nodeSelector']),
        fix: { text: 'Pin the manager to Linux nodes.', yaml: pool ? `nodeSelector:\n${labels.map((l) => `  ${l}`).join('\n')}\n  kubernetes.io/os: linux` : 'nodeSelector:\n  kubernetes.io/os: linux' },
      })
    }
    const grace = typeof v.terminationGracePeriodSeconds === 'number' ? v.terminationGracePeriodSeconds : CHART_DEFAULT_GRACE_SECONDS
    const shutdown = typeof v.shutdown_timeout === 'number' && v.shutdown_timeout > 0 ? v.shutdown_timeout : RUNNER_DEFAULT_SHUTDOWN_TIMEOUT_SECONDS
    const graceAt = helm.locate(v.terminationGracePeriodSeconds === undefined ? [] : ['terminationGracePeriodSeconds'])
    if (grace < shutdown) {
      out.push({ message: `terminationGracePeriodSeconds (${grace}) is shorter than the runner's shutdown_timeout (${shutdown} s): Kubernetes kills the manager before it has stopped`, at: graceAt, fix: { text: 'Give the pod at least shutdown_timeout to stop.', yaml: `terminationGracePeriodSeconds: ${Math.max(shutdown, GITLAB_DEFAULT_JOB_TIMEOUT_SECONDS)}` } })
    } else if (grace < GITLAB_DEFAULT_JOB_TIMEOUT_SECONDS) {
      out.push({ severity: 'info', message: `terminationGracePeriodSeconds is ${grace}: when the manager pod is replaced, running jobs get ${grace} s to finish, less than GitLab's default job timeout of one hour`, at: graceAt, fix: { text: 'Raise it to the longest job timeout you allow, or accept that upgrades cut longer jobs off.', yaml: `terminationGracePeriodSeconds: ${GITLAB_DEFAULT_JOB_TIMEOUT_SECONDS}` } })
    }
    return out
  },
})

function hasLinuxAffinity(affinity: unknown): boolean {
  return JSON.stringify(affinity ?? {}).includes('"kubernetes.io/os"') && JSON.stringify(affinity).includes('"linux"')
}
