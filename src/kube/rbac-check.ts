import type { LoadedRunner } from '../config/types.js'
import { kube } from '../config/load.js'
import type { Permission } from '../executor/permissions.js'
import { PERMISSION_TABLE } from '../executor/permissions.js'
import { rulesFor } from '../executor/permissions.js'
import { incompleteError, usageError } from '../util/errors.js'
import { reviewAccess } from './access.js'
import { resolveCluster } from './connect.js'

export interface RbacCheckResult {
  identity: string
  namespace: string
  rows: Array<{ resource: string; group: string; verbs: Record<string, 'granted' | 'missing' | 'not needed'> }>
  missing: Array<Permission & { namespace?: string }>
  rulesToAdd: string
}

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']

/** Asks the cluster (access reviews) whether each permission the runner needs is granted. */
export async function checkRbac(runner: LoadedRunner, perms: Permission[], flags: { kubeconfig?: string; context?: string; namespace?: string; as?: string; 'as-group'?: string[]; 'as-runner'?: boolean; 'request-timeout'?: number }): Promise<RbacCheckResult> {
  const k = kube(runner)
  const namespace = flags.namespace ?? (typeof k.namespace === 'string' && k.namespace ? k.namespace : 'default')
  const as = flags.as ?? (flags['as-runner'] ? `system:serviceaccount:${namespace}:${typeof k.service_account === 'string' && k.service_account ? k.service_account : 'default'}` : undefined)
  const groups = flags['as-group'] ?? []
  if (groups.length > 0 && !as) throw usageError('as-group-without-as', `--as-group ${groups.join(', ')} needs --as (or --as-runner): groups are checked together with a user`, { at: { flag: '--as-group' } })
  const target = await resolveCluster({ runner, ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}), ...(flags['request-timeout'] ? { timeoutMs: flags['request-timeout'] } : {}), namespace })
  if (!target) throw incompleteError('no-cluster', 'rbac --check needs a cluster, and no kubeconfig or in-cluster configuration was found', { suggestions: ['Pass --kubeconfig or --context.'] })
  const needed = perms.filter((p) => !p.grantedByDefault)
  const results = await reviewAccess(target, needed.map((p) => {
    const [resource, subresource] = p.resource.split('/')
    return { verb: p.verb, group: p.apiGroup, resource: resource!, ...(subresource ? { subresource } : {}), ...(p.clusterScoped ? {} : { namespace }) }
  }), as ? { as, ...(groups.length ? { asGroups: groups } : {}) } : {})
  const missing = needed.filter((_, i) => !results[i]!.allowed).map((p) => ({ ...p, ...(p.clusterScoped ? {} : { namespace }) }))
  const resources = [...new Map(PERMISSION_TABLE.filter((r) => !r.grantedByDefault).map((r) => [`${r.apiGroup}/${r.resource}`, { group: r.apiGroup, resource: r.resource }])).values()]
  const rows = resources.map(({ group, resource }) => ({
    resource,
    group,
    verbs: Object.fromEntries(VERBS.map((v) => {
      const i = needed.findIndex((p) => p.apiGroup === group && p.resource === resource && p.verb === v)
      return [v, i < 0 ? 'not needed' : results[i]!.allowed ? 'granted' : 'missing']
    })) as Record<string, 'granted' | 'missing' | 'not needed'>,
  })).filter((r) => Object.values(r.verbs).some((v) => v !== 'not needed'))
  const rulesToAdd = rulesFor(missing).map((r) => `- apiGroups: [${r.apiGroups.map((g) => JSON.stringify(g)).join(', ')}]\n  resources: [${r.resources.map((x) => JSON.stringify(x)).join(', ')}]\n  verbs: [${r.verbs.map((v) => JSON.stringify(v)).join(', ')}]`).join('\n')
  return { identity: as ?? target.info.identity ?? '(current user)', namespace, rows, missing, rulesToAdd }
}

/** The matrix as text; `needer` names who needs the permissions (the runner, or gkr cleanup for `rbac --for cleanup`). */
export function renderRbacMatrix(r: RbacCheckResult, needer = 'the runner'): string {
  const mark = { granted: 'yes', missing: 'MISSING', 'not needed': '-' } as const
  const w = Math.max(...r.rows.map((x) => (x.group ? `${x.resource}.${x.group}` : x.resource).length), 8)
  const lines = [`Permissions of ${r.identity} in namespace ${r.namespace}:`, '', `${'RESOURCE'.padEnd(w)}  ${VERBS.map((v) => v.toUpperCase().padEnd(8)).join('')}`]
  for (const row of r.rows) lines.push(`${(row.group ? `${row.resource}.${row.group}` : row.resource).padEnd(w)}  ${VERBS.map((v) => mark[row.verbs[v]!].padEnd(8)).join('')}`)
  lines.push('')
  if (r.missing.length === 0) lines.push(`Every permission ${needer} needs is granted.`)
  else {
    lines.push(`${r.missing.length} permission${r.missing.length === 1 ? '' : 's'} missing${r.missing.every((m) => m.optional) ? ` (all optional: ${needer} degrades without them)` : ''}. Add to the Role:`, '', r.rulesToAdd)
  }
  return lines.join('\n') + '\n'
}
