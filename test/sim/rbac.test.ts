import { describe, expect, it } from 'vitest'
import { Authorizer, forbiddenWhy, type Attributes } from '../../src/sim/rbac.js'
import { Store, type Obj } from '../../src/sim/store.js'
import { resourceForKind } from '../../src/sim/resources.js'

/** RBAC evaluation in memory (no server): the rule semantics of k8s-api.md §4.3. */

const SA = { name: 'system:serviceaccount:ci:runner', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'] }

function authorizer(objects: Obj[]): Authorizer {
  const store = new Store()
  for (const o of objects) {
    const def = resourceForKind(o.apiVersion!, o.kind!)!
    store.create(def, def.namespaced ? o.metadata.namespace : undefined, o)
  }
  return new Authorizer(store)
}

const role = (name: string, rules: unknown[], ns = 'ci'): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns }, rules })
const clusterRole = (name: string, rules: unknown[]): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules })
const binding = (name: string, roleRef: { kind: string; name: string }, subjects: unknown[], ns = 'ci'): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects })
const saSubject = { kind: 'ServiceAccount', name: 'runner', namespace: 'ci' }
const ask = (a: Partial<Attributes>): Attributes => ({ user: SA, verb: 'get', group: '', resource: 'pods', namespace: 'ci', ...a })

describe('RBAC evaluation', () => {
  it('subresources are separate resources; */subresource and * wildcards; resourceNames only for named requests', () => {
    const authz = authorizer([
      role('r', [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['*/log'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['runner-token'], verbs: ['get', 'delete', 'list'] },
        { apiGroups: ['*'], resources: ['roles'], verbs: ['*'] },
      ]),
      binding('b', { kind: 'Role', name: 'r' }, [saSubject]),
    ])
    const allowed = (a: Partial<Attributes>): boolean => authz.authorize(ask(a)).allowed
    expect(allowed({})).toBe(true)
    expect(allowed({ subresource: 'attach', verb: 'create' })).toBe(false)
    expect(allowed({ subresource: 'log' })).toBe(true)
    expect(allowed({ resource: 'secrets', name: 'runner-token' })).toBe(true)
    expect(allowed({ resource: 'secrets', name: 'other' })).toBe(false)
    expect(allowed({ resource: 'secrets', verb: 'list' })).toBe(false)
    expect(allowed({ resource: 'roles', group: 'rbac.authorization.k8s.io', verb: 'escalate' })).toBe(true)
    expect(allowed({ namespace: 'other' })).toBe(false)
    expect(authz.authorize(ask({})).reason).toBe('RBAC: allowed by RoleBinding "b/ci" of Role "r" to ServiceAccount "runner/ci"')
  })

  it('a RoleBinding to a ClusterRole grants only in its namespace; group subjects; a missing role is the reason of a denial', () => {
    const authz = authorizer([
      clusterRole('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
      binding('by-group', { kind: 'ClusterRole', name: 'pod-reader' }, [{ kind: 'Group', name: 'system:serviceaccounts:ci' }]),
      binding('dangling', { kind: 'Role', name: 'gone' }, [saSubject], 'other'),
    ])
    expect(authz.authorize(ask({})).reason).toBe('RBAC: allowed by RoleBinding "by-group/ci" of ClusterRole "pod-reader" to Group "system:serviceaccounts:ci"')
    const denied = authz.authorize(ask({ namespace: 'other' }))
    expect(denied).toEqual({ allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found' })
    expect(forbiddenWhy(ask({ namespace: 'other', verb: 'create', subresource: 'exec' }), denied.reason)).toBe(
      'User "system:serviceaccount:ci:runner" cannot create resource "pods/exec" in API group "" in the namespace "other": RBAC: role.rbac.authorization.k8s.io "gone" not found',
    )
  })

  it('every authenticated user may review its own access and read discovery; nothing else without a binding', () => {
    const authz = authorizer([])
    expect(authz.authorize({ user: SA, verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews' }).allowed).toBe(true)
    expect(authz.authorize({ user: SA, verb: 'get', path: '/apis/apps/v1' }).allowed).toBe(true)
    expect(authz.authorize({ user: SA, verb: 'get', path: '/metrics' }).allowed).toBe(false)
    expect(authz.authorize({ user: SA, verb: 'list', group: '', resource: 'nodes' }).allowed).toBe(false)
    expect(authz.authorize({ user: { name: 'root', groups: ['system:masters'] }, verb: 'delete', group: '', resource: 'nodes' }).allowed).toBe(true)
  })
})
