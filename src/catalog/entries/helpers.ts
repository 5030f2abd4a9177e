import type { Symptom } from '../types.js'
import { TROUBLESHOOTING_PAGE } from '../ids.js'

/** A symptom: `needle` is a lower-case literal every matching line contains. */
export const sym = (needle: string, pattern: RegExp, weight: number): Symptom => {
  if (needle !== needle.toLowerCase()) throw new Error(`catalog needle must be lower case: ${needle}`)
  return { needle, pattern, weight }
}

export const docRef = (id: string): string => `${TROUBLESHOOTING_PAGE}#${id}`
const K8S_EXECUTOR = 'https://docs.gitlab.com/runner/executors/kubernetes/'

/**
 * Our own entries have no anchor on the troubleshooting page, so each links to the public page that
 * documents the setting or the Kubernetes mechanism behind it. Findings are read where gkr is installed,
 * which has no docs/ folder: every link a user sees must be an absolute URL (SARIF's helpUri requires one).
 */
export const OWN_DOCS: Record<string, string> = {
  'rbac-forbidden': `${K8S_EXECUTOR}#configure-runner-api-permissions`,
  'quota-exceeded': 'https://kubernetes.io/docs/concepts/policy/resource-quotas/',
  'limit-range-violation': 'https://kubernetes.io/docs/concepts/policy/limit-range/',
  'webhook-denied': 'https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/',
  'image-pull-failed': 'https://kubernetes.io/docs/concepts/containers/images/',
  'oom-killed': `${K8S_EXECUTOR}#memory-requests-and-limits`,
  'crash-loop-back-off': 'https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-restarts',
  'image-not-allowed': `${K8S_EXECUTOR}#other-configtoml-settings`,
  'service-not-allowed': `${K8S_EXECUTOR}#other-configtoml-settings`,
  'namespace-overwrite-not-allowed': `${K8S_EXECUTOR}#overwrite-the-kubernetes-namespace`,
  'scheduling-failed': 'https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/',
  'volume-source-missing': `${K8S_EXECUTOR}#configure-volume-types`,
  'runtime-class-missing': `${K8S_EXECUTOR}#using-runtime-class`,
  'service-account-missing': `${K8S_EXECUTOR}#configure-the-executor-service-account`,
  'priority-class-missing': 'https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/',
  'config-invalid': 'https://docs.gitlab.com/runner/configuration/advanced-configuration/',
  'gitlab-unreachable': 'https://docs.gitlab.com/runner/configuration/tls-self-signed/',
  'runner-token-invalid': 'https://docs.gitlab.com/runner/register/',
  'job-rbac-forbidden': `${K8S_EXECUTOR}#overwrite-the-kubernetes-default-service-account`,
  'pod-security-admission': 'https://kubernetes.io/docs/concepts/security/pod-security-admission/',
  'openshift-scc': 'https://docs.gitlab.com/runner/install/operator/',
  'node-pressure-eviction': 'https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/',
  'disruption-eviction': 'https://kubernetes.io/docs/concepts/workloads/pods/disruptions/',
  'kubelet-unreachable': 'https://kubernetes.io/docs/concepts/architecture/control-plane-node-communication/',
  'pod-security-policy': 'https://kubernetes.io/docs/concepts/security/pod-security-policy/',
}

export const ownRef = (id: string): string => {
  const url = OWN_DOCS[id]
  if (!url) throw new Error(`catalog entry ${id} has no public documentation link in OWN_DOCS`)
  return url
}
