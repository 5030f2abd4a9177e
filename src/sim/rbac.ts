import type { Store, Obj } from './store.js'
import { RESOURCES } from './resources.js'

export interface User {
  name: string
  groups: string[]
}

export interface Attributes {
  user: User
  verb: string
  group?: string
  resource?: string
  subresource?: string
  namespace?: string
  name?: string
  /** Non-resource requests (e.g. /version). */
  path?: string
}

interface Rule {
  verbs?: string[]
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
  nonResourceURLs?: string[]
}

const def = (resource: string, group: string): ReturnType<typeof RESOURCES.find> => RESOURCES.find((r) => r.resource === resource && r.group === group)

/** What every authenticated user may do (system:basic-user, system:discovery, system:public-info-viewer). */
const BASIC_RULES: Rule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] },
]

export function ruleAllows(rule: Rule, a: Attributes): boolean {
  if (!rule.verbs?.some((v) => v === '*' || v === a.verb)) return false
  if (a.path !== undefined) return Boolean(rule.nonResourceURLs?.some((u) => u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1)))))
  if (!rule.apiGroups?.some((g) => g === '*' || g === (a.group ?? ''))) return false
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!
  const resOk = rule.resources?.some((r) => r === '*' || r === res || (a.subresource !== undefined && r === `*/${a.subresource}`))
  if (!resOk) return false
  if (rule.resourceNames && rule.resourceNames.length > 0) return a.name !== undefined && rule.resourceNames.includes(a.name)
  return true
}

function subjectMatches(s: { kind?: string; name?: string; namespace?: string }, user: User): boolean {
  if (s.kind === 'User') return s.name === user.name
  if (s.kind === 'Group') return user.groups.includes(String(s.name))
  if (s.kind === 'ServiceAccount') return user.name === `system:serviceaccount:${s.namespace}:${s.name}`
  return false
}

function describeSubject(s: { kind?: string; name?: string; namespace?: string }): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount "${s.name}/${s.namespace}"` : `${s.kind} "${s.name}"`
}

/** RBAC as the API server evaluates it: the union of every rule bound to the user; no deny. */
export class Authorizer {
  constructor(private readonly store: Store) {}

  private rolesOf(binding: Obj, bindingNs: string | undefined): { rules: Rule[]; missing?: string } {
    const ref = binding.roleRef as { kind: string; name: string }
    const kind = ref.kind === 'ClusterRole' ? def('clusterroles', 'rbac.authorization.k8s.io')! : def('roles', 'rbac.authorization.k8s.io')!
    const role = this.store.tryGet(kind, bindingNs, ref.name)
    if (!role) return { rules: [], missing: `${kind.resource === 'roles' ? 'role' : 'clusterrole'}.rbac.authorization.k8s.io "${ref.name}" not found` }
    return { rules: (role.rules as Rule[] | undefined) ?? [] }
  }

  authorize(a: Attributes): { allowed: boolean; reason: string } {
    if (a.user.groups.includes('system:masters')) return { allowed: true, reason: '' }
    if (BASIC_RULES.some((r) => ruleAllows(r, a))) return { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:basic-user"' }
    const errors: string[] = []
    for (const crb of this.store.list(def('clusterrolebindings', 'rbac.authorization.k8s.io')!)) {
      const subj = ((crb.subjects as Array<Record<string, string>>) ?? []).find((s) => subjectMatches(s, a.user))
      if (!subj) continue
      const { rules, missing } = this.rolesOf(crb, undefined)
      if (missing) errors.push(missing)
      if (rules.some((r) => ruleAllows(r, a))) return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${crb.metadata.name}" of ClusterRole "${(crb.roleRef as { name: string }).name}" to ${describeSubject(subj)}` }
    }
    if (a.namespace && a.path === undefined) {
      for (const rb of this.store.list(def('rolebindings', 'rbac.authorization.k8s.io')!, a.namespace)) {
        const subj = ((rb.subjects as Array<Record<string, string>>) ?? []).find((s) => subjectMatches(s, a.user))
        if (!subj) continue
        const { rules, missing } = this.rolesOf(rb, a.namespace)
        if (missing) errors.push(missing)
        const ref = rb.roleRef as { kind: string; name: string }
        if (rules.some((r) => ruleAllows(r, a))) return { allowed: true, reason: `RBAC: allowed by RoleBinding "${rb.metadata.name}/${a.namespace}" of ${ref.kind} "${ref.name}" to ${describeSubject(subj)}` }
      }
    }
    return { allowed: false, reason: errors.length ? `RBAC: ${errors.join(', ')}` : '' }
  }

  /** The resource rules that apply to the user in a namespace (SelfSubjectRulesReview). */
  rulesFor(user: User, namespace: string): Rule[] {
    const out: Rule[] = [...BASIC_RULES]
    if (user.groups.includes('system:masters')) out.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] })
    for (const crb of this.store.list(def('clusterrolebindings', 'rbac.authorization.k8s.io')!)) {
      if (((crb.subjects as Array<Record<string, string>>) ?? []).some((s) => subjectMatches(s, user))) out.push(...this.rolesOf(crb, undefined).rules)
    }
    for (const rb of this.store.list(def('rolebindings', 'rbac.authorization.k8s.io')!, namespace)) {
      if (((rb.subjects as Array<Record<string, string>>) ?? []).some((s) => subjectMatches(s, user))) out.push(...this.rolesOf(rb, namespace).rules)
    }
    return out
  }
}

/** The Forbidden message for a denied request (k8s-api.md §2.1). */
export function forbiddenWhy(a: Attributes, reason: string): string {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'
  return `User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group ?? ''}" ${where}${reason ? `: ${reason}` : ''}`
}

/** A refused impersonation: the attributes the requester lacked, and the object it named. */
export interface ImpersonationDenied {
  denied: Attributes
  resource: 'users' | 'serviceaccounts' | 'groups' | 'uids' | 'userextras'
  name: string
}

/**
 * The identity a request acts as under Impersonate-User / Impersonate-Group (one header line per
 * group), as the API server's impersonation filter decides it: the requester needs `impersonate` on the
 * user (or the service account, in its namespace) and on every group. A service account gets its
 * implied groups; every impersonated identity is system:authenticated.
 */
export function impersonated(authz: Authorizer, requester: User, as: string, groups: readonly string[], more: { uid?: string; extras?: ReadonlyArray<readonly [string, string]> } = {}): User | ImpersonationDenied {
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(as)
  const userAttrs: Attributes = sa ? { user: requester, verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] } : { user: requester, verb: 'impersonate', group: '', resource: 'users', name: as }
  if (!authz.authorize(userAttrs).allowed) return { denied: userAttrs, resource: sa ? 'serviceaccounts' : 'users', name: sa ? sa[2]! : as }
  for (const g of groups) {
    const attrs: Attributes = { user: requester, verb: 'impersonate', group: '', resource: 'groups', name: g }
    if (!authz.authorize(attrs).allowed) return { denied: attrs, resource: 'groups', name: g }
  }
  // Extras and the uid are authorized in authentication.k8s.io: an extra's key is the subresource.
  for (const [key, value] of more.extras ?? []) {
    const attrs: Attributes = { user: requester, verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value }
    if (!authz.authorize(attrs).allowed) return { denied: attrs, resource: 'userextras', name: value }
  }
  if (more.uid) {
    const attrs: Attributes = { user: requester, verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: more.uid }
    if (!authz.authorize(attrs).allowed) return { denied: attrs, resource: 'uids', name: more.uid }
  }
  const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : []
  return { name: as, groups: [...new Set([...implied, ...groups, 'system:authenticated'])] }
}
