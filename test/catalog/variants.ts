/**
 * Realistic variants of catalog symptoms, as they show up in real job logs and runner logs rather than
 * as the documentation quotes them: older wordings, other pod names/namespaces/IPs, JSON-escaped API
 * errors inside client messages, logrus/JSON runner-log lines, timestamps and kubectl prefixes, ANSI
 * colours and GitLab section markers. [name, raw line, expected entry, fields expected to be extracted].
 */
export type Variant = [name: string, line: string, id: string, fields?: Record<string, string>]

const ESC = '\x1b'
const colour = (s: string): string => `${ESC}[31;1m${s}${ESC}[0;m`
const section = (s: string): string => `${ESC}[0Ksection_start:1732412345:prepare_executor\r${ESC}[0K${s}`

export const VARIANTS: Variant[] = [
  // older runner wordings ("Preparation failed: …", no "(system failure)")
  ['older wording: timed out', 'Preparation failed: timed out waiting for pod to start', 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
  ['older wording: phase', 'ERROR: Preparation failed: prepare environment: waiting for pod running: pod failed to enter running state: Pending', 'job-failed-system-failure-timed-out-waiting-for-pod-to-start', { phase: 'Pending' }],
  ['older wording: quota', 'ERROR: Preparation failed: setting up build pod: pods "runner-ab12cd-project-4-concurrent-2" is forbidden: exceeded quota: team-quota, requested: pods=1, used: pods=20, limited: pods=20', 'quota-exceeded', { quota: 'team-quota', requested: 'pods=1', used: 'pods=20', limited: 'pods=20' }],
  ['older wording: rbac', 'Preparation failed: getting pod: pods "runner-1" is forbidden: User "system:serviceaccount:gitlab:default" cannot get resource "pods" in API group "" in the namespace "gitlab"', 'rbac-forbidden', { user: 'system:serviceaccount:gitlab:default', verb: 'get', resource: 'pods', namespace: 'gitlab' }],
  ['older wording: pull policy', "Preparation failed: invalid pull policy for image 'alpine:3.20': pull_policy ([IfNotPresent]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])", 'error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies', { requested: '[IfNotPresent]', allowed: '[always]' }],
  ['older wording: setting up credentials webhook timeout', 'ERROR: Preparation failed: setting up credentials: Timeout: request did not complete within requested timeout - context deadline exceeded', 'request-did-not-complete-within-requested-timeout'],
  // other pod names, namespaces, IPs, ports
  ['connection refused, other IP and namespace', 'Error cleaning up pod: Delete "https://172.20.0.1:6443/api/v1/namespaces/build-jobs/pods/runner-q9w8e7-project-311-concurrent-5xyz": dial tcp 172.20.0.1:6443: connect: connection refused', 'error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running', { address: '172.20.0.1:6443' }],
  ['i/o timeout, IPv6 API server', 'Post "https://[fd00::1]:443/api/v1/namespaces/ci/pods": dial tcp [fd00::1]:443: i/o timeout', 'dial-tcp-xxxxxxxxxx-io-timeout', { address: '[fd00::1]:443' }],
  ['i/o timeout, host name', 'ERROR: Job failed (system failure): prepare environment: setting up build pod: Post "https://k8s.internal.example:6443/api/v1/namespaces/runners/pods": dial tcp k8s.internal.example:6443: i/o timeout', 'dial-tcp-xxxxxxxxxx-io-timeout', { address: 'k8s.internal.example:6443' }],
  ['resolve host, other host', "fatal: unable to access 'https://gitlab.corp.example.net/platform/api.git/': Could not resolve host: gitlab.corp.example.net", 'error-could-not-resolve-host-examplecom', { host: 'gitlab.corp.example.net' }],
  ['docker daemon, tls port', 'error during connect: Get "http://docker:2376/v1.24/info": docker: Cannot connect to the Docker daemon at tcp://docker:2376. Is the docker daemon running?', 'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running', { daemon: 'tcp://docker:2376' }],
  ['curl 35, other host', 'curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to registry.npmjs.org:443', 'curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443', { host: 'registry.npmjs.org', port: '443' }],
  ['EKS cleanup, other pod', 'ERROR: Error cleaning up pod: pods "runner-8fj2k-project-77-concurrent-3abcd" not found', 'aws-eks-error-cleaning-up-pod-pods-runner--not-found-or-status-is-failed', { pod: 'runner-8fj2k-project-77-concurrent-3abcd' }],
  ['quota, several resources', 'pods "runner-7-project-2-concurrent-0" is forbidden: exceeded quota: compute, requested: limits.memory=4Gi,requests.memory=2Gi, used: limits.memory=30Gi,requests.memory=15Gi, limited: limits.memory=32Gi,requests.memory=16Gi', 'quota-exceeded', { quota: 'compute', requested: 'limits.memory=4Gi,requests.memory=2Gi', limited: 'limits.memory=32Gi,requests.memory=16Gi' }],
  ['quota, must specify (older API server)', 'pods "runner-1" is forbidden: failed quota: compute-resources: must specify limits.cpu,limits.memory', 'quota-exceeded', { quota: 'compute-resources', missing: 'limits.cpu,limits.memory' }],
  ['rbac, cluster scope (namespace_per_job)', 'namespaces is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "namespaces" in API group "" at the cluster scope', 'rbac-forbidden', { verb: 'create', resource: 'namespaces', scope: 'cluster' }],
  ['rbac, a resource the executor never touches: the job\'s tool', 'nodes is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "nodes" in API group "" at the cluster scope', 'job-rbac-forbidden', { verb: 'list', resource: 'nodes', scope: 'cluster' }],
  ['rbac, other API group', 'pods "runner-1" is forbidden: User "system:serviceaccount:apps:gl-runner" cannot create resource "pods/exec" in API group "" in the namespace "apps"', 'rbac-forbidden', { user: 'system:serviceaccount:apps:gl-runner', verb: 'create', resource: 'pods/exec', namespace: 'apps' }],
  // JSON-escaped API errors inside client messages and runner-log formats
  ['JSON-escaped Status inside a client error', String.raw`HTTP-Code: 403 Message: Unknown API Status Code! Body: "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"pods \\\"runner-x\\\" is forbidden: User \\\"system:serviceaccount:build:gitlab-runner\\\" cannot create resource \\\"pods/attach\\\" in API group \\\"\\\" in the namespace \\\"build\\\"\",\"reason\":\"Forbidden\",\"code\":403}"`, 'rbac-forbidden', { user: 'system:serviceaccount:build:gitlab-runner', verb: 'create', resource: 'pods/attach', namespace: 'build' }],
  ['logrus text line in the runner manager log', String.raw`time="2026-11-24T02:00:01Z" level=error msg="Job failed (system failure): secrets \"runner-abc-project-7-concurrent-4gzq9t\" is forbidden: exceeded quota: ci-quota, requested: secrets=1, used: secrets=50, limited: secrets=50" job=812 project=7 runner=xK3dP1`, 'quota-exceeded', { kind: 'secrets', quota: 'ci-quota', used: 'secrets=50', limited: 'secrets=50' }],
  ['JSON runner-log line', String.raw`{"level":"error","msg":"Job failed (system failure): prepare environment: admission webhook \"validation.gatekeeper.sh\" denied the request: [require-team-label] you must provide labels: {\"team\"}","job":812,"time":"2026-11-24T02:00:01Z"}`, 'webhook-denied', { webhook: 'validation.gatekeeper.sh' }],
  ['JSON-escaped read-only rootfs from Gatekeeper', String.raw`{"msg":"admission webhook \"validation.gatekeeper.sh\" denied the request: [psp-readonlyrootfilesystem] only read-only root filesystem container is allowed: build"}`, 'error-only-read-only-root-filesystem-container-is-allowed'],
  // job-log prefixes: timestamps, kubectl logs --prefix, ANSI colour and section markers
  ['timestamped job log (GitLab 17 trace)', '2026-11-24T02:00:01.123456Z 01E ERROR: Job failed: command terminated with exit code 137', 'oom-killed', { exitCode: '137' }],
  ['kubectl logs --prefix', '[pod/runner-abc-project-1-concurrent-0/build] curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to github.com:443', 'curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443'],
  ['ANSI colour around the error', colour('ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start'), 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
  ['section marker before the error', section(colour('ERROR: Job failed (system failure): prepare environment: etcdserver: leader changed')), 'context-deadline-exceeded', { etcdError: 'leader changed' }],
  ['warning event with colours', `${ESC}[0;33mWARNING: Event retrieved from the cluster: 0/12 nodes are available: 5 node(s) had untolerated taint {dedicated: gpu}, 7 Insufficient memory.${ESC}[0;m`, 'scheduling-failed', { available: '0', total: '12' }],
  // the pod states, each on its own
  ['pod waiting: ImagePullBackOff', 'WARNING: Failed to pull image with policy "": image pull failed: Back-off pulling image "registry.example.com/app:1.2"', 'image-pull-failed'],
  ['bare state ImagePullBackOff', 'Waiting for pod ci/runner-abc-project-1-concurrent-0 to be running, status is Pending: ContainersNotReady: "containers with unready status: [build helper]" ImagePullBackOff', 'image-pull-failed', { state: 'ImagePullBackOff' }],
  ['bare state InvalidImageName', 'container "build" in pod "runner-1" is waiting to start: InvalidImageName', 'image-pull-failed', { state: 'InvalidImageName' }],
  ['OOMKilled from the runner', "ERROR: Job failed (system failure): Error in container build: exit code: 137, reason: 'OOMKilled'", 'oom-killed', { container: 'build', exitCode: '137' }],
  ['service account missing, plural form', 'Error creating: pods "runner-1" is forbidden: error looking up service account ci/runner-sa: serviceaccounts "runner-sa" not found', 'service-account-missing', { name: 'runner-sa' }],
  ['init system: tini', 'root     1      0  0 21:58 ?        00:00:00 /scripts-37474587-5556589047/tini -- sh -c if [ -x /usr/local/bin/bash ]; then .exec /usr/local/bin/bash', 'apparently-redundant-shell-process-in-build-container-with-init-system', { init: 'tini' }],
  ['pull policy heading without the allowed list', 'pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies', 'error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies', { requested: '[Always]' }],
  // kubelet events the runner relays with "Event retrieved from the cluster:"
  ['kubelet back-off on its own', 'WARNING: Event retrieved from the cluster: Back-off pulling image "ghcr.io/acme/builder:2024.11"', 'image-pull-failed', { image: 'ghcr.io/acme/builder:2024.11' }],
  ['eviction for memory (137 without OOMKilled)', 'WARNING: Event retrieved from the cluster: The node was low on resource: memory. Container helper was using 900Mi, request is 0, has larger consumption of memory.', 'node-pressure-eviction', { resource: 'memory' }],
  ['volume mount timeout', 'Event retrieved from the cluster: Unable to attach or mount volumes: unmounted volumes=[docker-certs], unattached volumes=[docker-certs scripts]: timed out waiting for the condition', 'volume-source-missing', { volumes: 'docker-certs' }],
]
