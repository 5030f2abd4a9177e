/** Impersonation as the simulator decides it (k8s-api.md §4.3): impersonate on the user or service account, and on every group. */
import { describe, expect, it } from 'vitest'
import { Authorizer, impersonated } from '../../src/sim/rbac.js'
import { Store, type Obj } from '../../src/sim/store.js'
import { resourceForKind } from '../../src/sim/resources.js'

function authorizer(objects: Obj[]): Authorizer {
  const store = new Store()
  for (const o of objects) {
    const def = resourceForKind(o.apiVersion!, o.kind!)!
    store.create(def, def.namespaced ? o.metadata.namespace : undefined, o)
  }
  return new Authorizer(store)
}

const bob = { name: 'bob', groups: ['system:authenticated'] }
const grant = (rules: unknown[]): Obj[] => [
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'imp' }, rules } as Obj,
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'imp' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'imp' }, subjects: [{ kind: 'User', name: 'bob' }] } as Obj,
]

describe('impersonated', () => {
  it('a user with its groups, when the requester may impersonate both; system:authenticated added once', () => {
    const authz = authorizer(grant([{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]))
    expect(impersonated(authz, bob, 'alice', ['dev', 'system:authenticated'])).toEqual({ name: 'alice', groups: ['dev', 'system:authenticated'] })
  })

  it('a service account gets its implied groups; impersonate is checked in its namespace', () => {
    const authz = authorizer(grant([{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }]))
    expect(impersonated(authz, bob, 'system:serviceaccount:ci:runner', [])).toEqual({ name: 'system:serviceaccount:ci:runner', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'] })
  })

  it('a group the requester may not impersonate is refused, naming the group', () => {
    const authz = authorizer(grant([{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }]))
    const r = impersonated(authz, bob, 'alice', ['dev'])
    expect(r).toMatchObject({ resource: 'groups', name: 'dev', denied: { verb: 'impersonate', resource: 'groups', name: 'dev' } })
    expect(impersonated(authorizer([]), bob, 'alice', [])).toMatchObject({ resource: 'users', name: 'alice' })
  })
})
