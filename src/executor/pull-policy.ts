/**
 * How the Kubernetes executor picks the pull policy of a container (runner-facts §2.11; the runner's
 * `preparePullManager`, `KubernetesConfig.GetAllowedPullPolicies` and `ComputeEffectivePullPolicies`).
 *
 * - The policies tried are the job's (image or service `pull_policy`), else the config's `pull_policy`,
 *   else one empty policy (no imagePullPolicy: the cluster default).
 * - The allow-list is `allowed_pull_policies`, else the config's `pull_policy`, else that one empty policy.
 *   So with neither key set, a job that asks for any policy is refused.
 * - The effective list is the tried policies that the allow-list holds; none → the job fails in Prepare.
 */

/** Runner names → Kubernetes names; "" is no policy (no imagePullPolicy: the cluster's default), as in the runner. */
export const K8S_PULL_POLICY: Readonly<Record<string, string>> = { '': '', always: 'Always', never: 'Never', 'if-not-present': 'IfNotPresent' }

const supported = (p: string): boolean => Object.hasOwn(K8S_PULL_POLICY, p)

export type PullPolicySource = 'GitLab pipeline config' | 'Runner config' | 'Runner config (default)'

export interface PullPolicyDecision {
  /** Kubernetes policies in the order the runner tries them ('' = no imagePullPolicy). */
  effective: string[]
  /** The runner's error when no policy is left (without the `invalid pull policy for container` prefix). */
  error?: string
  source: PullPolicySource
  /** Runner policy names that are not always/never/if-not-present, with the key they came from. */
  unsupported: Array<{ key: 'pull_policy' | 'allowed_pull_policies' | 'job'; value: string }>
}

/** Go's %v of a []api.PullPolicy: `[Always IfNotPresent]`, and `[]` for the one empty policy. */
export const showPolicies = (ps: readonly string[]): string => `[${ps.join(' ')}]`

const toK8s = (ps: readonly string[]): string[] => ps.map((p) => K8S_PULL_POLICY[p] ?? p)

export function effectivePullPolicies(asked: readonly string[] | undefined, configPolicies: readonly string[], allowedPolicies: readonly string[]): PullPolicyDecision {
  const unsupported: PullPolicyDecision['unsupported'] = [
    ...(asked ?? []).filter((p) => !supported(p)).map((value) => ({ key: 'job' as const, value })),
    ...configPolicies.filter((p) => !supported(p)).map((value) => ({ key: 'pull_policy' as const, value })),
    ...allowedPolicies.filter((p) => !supported(p)).map((value) => ({ key: 'allowed_pull_policies' as const, value })),
  ]
  const fromJob = asked !== undefined && asked.length > 0
  const source: PullPolicySource = fromJob ? 'GitLab pipeline config' : configPolicies.length > 0 ? 'Runner config' : 'Runner config (default)'
  const tried = fromJob ? toK8s(asked) : configPolicies.length > 0 ? toK8s(configPolicies) : ['']
  const allowed = allowedPolicies.length > 0 ? toK8s(allowedPolicies) : configPolicies.length > 0 ? toK8s(configPolicies) : ['']
  const effective = tried.filter((p) => allowed.includes(p))
  if (effective.length > 0) return { effective, source, unsupported }
  return { effective, source, unsupported, error: `pull_policy (${showPolicies(tried)}) defined in ${source} is not one of the allowed_pull_policies (${showPolicies(allowed)})` }
}
