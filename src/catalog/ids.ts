/**
 * Every catalog id, so checks and error mapping can name entries before (and without) loading the
 * catalog's text. Documented ids are the English anchor slugs of GitLab's "Troubleshooting the
 * Kubernetes executor" page (in page order); the rest are gkr's own. A meta-test keeps this list and
 * src/catalog/entries in step.
 */
export const DOCUMENTED_IDS = [
  'job-failed-system-failure-timed-out-waiting-for-pod-to-start',
  'context-deadline-exceeded',
  'dial-tcp-xxxxxxxxxx-io-timeout',
  'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api',
  'error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running',
  'request-did-not-complete-within-requested-timeout',
  'error-could-not-resolve-host-examplecom',
  'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running',
  'curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443',
  'mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows',
  'build-pods-are-assigned-the-worker-nodes-iam-role-instead-of-runner-iam-role',
  'error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies',
  'background-processes-cause-jobs-to-hang-and-timeout',
  'cache-related-permission-denied-errors',
  'apparently-redundant-shell-process-in-build-container-with-init-system',
  'runner-pod-fails-to-run-job-results-and-times-out-despite-successful-registration',
  'failed-to-reserve-container-name-for-init-permissions-container-when-gcs-fuse-csi-driver-is-used',
  'error-only-read-only-root-filesystem-container-is-allowed',
  'aws-eks-error-cleaning-up-pod-pods-runner--not-found-or-status-is-failed',
  'services-not-supported-with-windows-containers',
] as const

export const OWN_IDS = [
  'rbac-forbidden',
  'quota-exceeded',
  'limit-range-violation',
  'webhook-denied',
  'image-pull-failed',
  'oom-killed',
  'crash-loop-back-off',
  'image-not-allowed',
  'service-not-allowed',
  'namespace-overwrite-not-allowed',
  'scheduling-failed',
  'volume-source-missing',
  'runtime-class-missing',
  'service-account-missing',
  'priority-class-missing',
  'config-invalid',
  'gitlab-unreachable',
  'runner-token-invalid',
  'job-rbac-forbidden',
  'pod-security-admission',
  'openshift-scc',
  'node-pressure-eviction',
  'disruption-eviction',
  'kubelet-unreachable',
  'pod-security-policy',
] as const

export type DocumentedId = (typeof DOCUMENTED_IDS)[number]
export type OwnId = (typeof OWN_IDS)[number]
export type CatalogId = DocumentedId | OwnId

export const ALL_IDS: readonly CatalogId[] = [...DOCUMENTED_IDS, ...OWN_IDS]

export const TROUBLESHOOTING_PAGE = 'https://docs.gitlab.com/runner/executors/kubernetes/troubleshooting/'

export function isCatalogId(id: string): id is CatalogId {
  return (ALL_IDS as readonly string[]).includes(id)
}
