import { k8s } from './client.js'
import type { ClusterTarget } from './connect.js'

export interface AccessCheck {
  verb: string
  group: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}

export interface AccessResult extends AccessCheck {
  allowed: boolean
  reason?: string
}

/**
 * Asks the API server whether each action is allowed: SelfSubjectAccessReview for the connecting
 * identity, or SubjectAccessReview for `as` (e.g. system:serviceaccount:NS:NAME). Runs in parallel,
 * `concurrency` at a time.
 */
export async function reviewAccess(target: ClusterTarget, checks: readonly AccessCheck[], opts: { as?: string; asGroups?: readonly string[]; concurrency?: number } = {}): Promise<AccessResult[]> {
  const api = target.kc.makeApiClient(k8s().AuthorizationV1Api)
  const sa = opts.as ? /^system:serviceaccount:([^:]+):/.exec(opts.as) : null
  // The groups the API server gives the identity, plus those --as-group adds.
  const groups = [...new Set([...(sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : []), ...(opts.asGroups ?? []), 'system:authenticated'])]
  return mapLimit(checks, opts.concurrency ?? 8, async (c) => {
    const resourceAttributes = { verb: c.verb, group: c.group, resource: c.resource, ...(c.subresource ? { subresource: c.subresource } : {}), ...(c.namespace ? { namespace: c.namespace } : {}), ...(c.name ? { name: c.name } : {}) }
    const status = opts.as
      ? (await target.call('a SubjectAccessReview', () => api.createSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: opts.as, groups, resourceAttributes } } }))).status
      : (await target.call('a SelfSubjectAccessReview', () => api.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } } }))).status
    return { ...c, allowed: Boolean(status?.allowed), ...(status?.reason ? { reason: status.reason } : {}) }
  })
}

/** Runs fn over items with at most `limit` in flight; keeps the order of items. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
