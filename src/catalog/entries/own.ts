/**
 * gkr's own entries: executor failures users meet that GitLab's troubleshooting page does not cover.
 * Patterns follow the exact strings of the runner, the API server and the kubelet.
 */
import type { CatalogEntry } from '../types.js'
import { ownRef, sym } from './helpers.js'
import { RBAC_CANNOT } from './workload.js'

const Q = String.raw`"(?<name>[^"]+)"`

export const ownEntries: CatalogEntry[] = [
  {
    id: 'rbac-forbidden',
    title: "The executor's service account lacks a permission",
    ref: ownRef('rbac-forbidden'),
    source: 'gkr',
    symptoms: [
      // Current (`cannot VERB resource "R" in API group "G"`) and pre-1.12 (`cannot VERB R.group`) phrasings.
      sym('is forbidden: user', new RegExp(String.raw`(?:(?<kind>[\w.-]+)(?: "(?<name>[^"]+)")? )?is forbidden: ${RBAC_CANNOT}`), 50),
      // fabric8-based clients (Jenkins agents and similar) hide the RBAC detail behind this sentence.
      sym("configured service account doesn't have access", /Forbidden!\s*Configured service account doesn't have access/, 35),
      sym("won't use informers", /won't use informers: "?not allowed: (?<verb>\w+) on (?<resource>[\w/]+)/, 45),
    ],
    explanation:
      'The API server refused a call because the identity the runner uses (usually its service account) has no Role or ClusterRole granting that verb on that resource in that namespace.',
    causes: [
      'The Role bound to the runner\'s service account misses a verb the executor needs (for example pods/attach, pods/exec, secrets create).',
      'The RoleBinding is in another namespace than the one jobs run in (namespace overwrite, namespace_per_job).',
      'A newer runner version uses an API (informers: list/watch pods, events) the old Role did not include.',
    ],
    fix: {
      steps: [
        'Add the missing rule to the Role bound to the runner\'s service account in the namespace shown (`gkr rbac` prints the full Role for your config).',
        'Make sure a RoleBinding exists in every namespace jobs use.',
      ],
      snippet: {
        lang: 'yaml',
        text: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: gitlab-runner\n  namespace: ci\nrules:\n  - apiGroups: [""]\n    resources: ["pods", "pods/attach", "pods/exec", "pods/log", "secrets"]\n    verbs: ["get", "list", "watch", "create", "delete", "patch", "update"]',
      },
    },
    configKeys: ['runners.kubernetes.service_account', 'runners.kubernetes.namespace'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods" in API group "" in the namespace "ci"',
      'ERROR: Job failed (system failure): pods "runner-x7k2p-project-9-concurrent-0abcde" is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods/attach" in API group "" in the namespace "ci"',
    ],
    ja: {
      title: 'executorのサービスアカウントに権限が不足している',
      explanation: 'Runnerが使うID（通常はサービスアカウント）に、その名前空間・リソース・動詞を許可するRoleがないため、APIサーバーが呼び出しを拒否しました。',
      fix: ['表示された名前空間で、Runnerのサービスアカウントに紐づくRoleへ不足しているルールを追加します（`gkr rbac`で全体を出力できます）。', 'ジョブが使うすべての名前空間にRoleBindingを用意します。'],
    },
  },
  {
    id: 'quota-exceeded',
    title: 'A ResourceQuota rejected the pod or secret',
    ref: ownRef('quota-exceeded'),
    source: 'gkr',
    symptoms: [
      sym(
        'exceeded quota: ',
        /(?<kind>[\w.-]+) "(?<object>[^"]+)" is forbidden: exceeded quota: (?<quota>[^,]+), requested: (?<requested>.+?), used: (?<used>.+?), limited: (?<limited>[^"\s]+(?:,[^"\s]+)*)/,
        60,
      ),
      sym('failed quota: ', /[Ff]ailed quota: (?<quota>[^:]+): must specify (?<missing>.+?)(?:"|$)/, 60),
      // The quota admission plugin's phrasing before Kubernetes 1.2.
      sym('is limited by quota, must make explicit request', /(?<missing>\w+) is limited by quota, must make explicit request/, 55),
      sym(' quota is ', /(?<resource>\w+) quota is (?<limit>[^,\s]+), current usage is (?<current>[^,\s]+), requesting (?<request>[^.\s]+)/, 55),
    ],
    explanation:
      'A ResourceQuota in the job namespace has no room left for what the runner tried to create, or it tracks CPU/memory and the pod does not declare the requests/limits the quota requires. The secrets-count variant usually means old runner secrets leaked after earlier failures and fill the quota.',
    causes: [
      'Too many concurrent jobs for the namespace\'s quota.',
      'Leaked runner secrets, pods or services from failed jobs count against the quota.',
      'The quota covers limits.cpu/limits.memory but the build, helper or service containers have no limits.',
    ],
    fix: {
      steps: [
        'Compare requested + used with limited in the message; lower `concurrent` or the job\'s requests, or raise the quota.',
        'For count quotas (secrets=, pods=) remove leaked runner objects: `gkr cleanup --older-than 2h` (then `--yes`).',
        'For "must specify": set requests and limits for every container the runner creates.',
      ],
      snippet: {
        lang: 'toml',
        text: '[runners.kubernetes]\n  cpu_request = "500m"\n  cpu_limit = "1"\n  memory_request = "1Gi"\n  memory_limit = "2Gi"\n  helper_cpu_limit = "500m"\n  helper_memory_limit = "256Mi"\n  service_cpu_limit = "1"\n  service_memory_limit = "1Gi"',
      },
    },
    configKeys: ['concurrent', 'runners.kubernetes.cpu_limit', 'runners.kubernetes.memory_limit', 'runners.kubernetes.helper_memory_limit', 'runners.kubernetes.service_memory_limit'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): pods "runner-z36gywsv-project-7-concurrent-37498b9" is forbidden: exceeded quota: all-resources, requested: requests.memory=1536Mi, used: requests.memory=57232Mi, limited: requests.memory=56Gi',
      'ERROR: Job failed (system failure): secrets "runner-z36gywsv-project-7-concurrent-4gzq9t" is forbidden: exceeded quota: all-resources, requested: secrets=1, used: secrets=100, limited: secrets=100',
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: failed quota: compute: must specify limits.cpu for: build,helper; limits.memory for: build,helper',
    ],
    ja: {
      title: 'ResourceQuotaによりポッドやシークレットが拒否された',
      explanation: 'ジョブの名前空間のResourceQuotaに空きがないか、クォータが求めるrequests/limitsをポッドが指定していません。シークレット数の場合は、過去の失敗で残ったRunnerのシークレットが溜まっていることがよくあります。',
      fix: ['メッセージのrequested・used・limitedを比べ、`concurrent`や要求量を下げるかクォータを増やします。', '残留したRunnerのオブジェクトを`gkr cleanup`で削除します。', '「must specify」の場合はすべてのコンテナにrequestsとlimitsを設定します。'],
    },
  },
  {
    id: 'limit-range-violation',
    title: 'A LimitRange rejected the pod',
    ref: ownRef('limit-range-violation'),
    source: 'gkr',
    symptoms: [
      sym(
        ' usage per ',
        /(?<bound>maximum|minimum) (?<resource>[\w.-]+) usage per (?<scope>Container|Pod) is (?<allowed>[^,\s"]+?)(?:,?\s+(?:but (?:limit|request) is (?<actual>[^\],"\s]+)|No (?:limit|request) is specified)|\.?"|\.?$)/,
        55,
      ),
      sym('limit to request ratio per', /(?<resource>[\w.-]+) max limit to request ratio per (?<scope>Container|Pod) is (?<allowed>[^,\s]+), but provided ratio is (?<actual>[^\],"\s]+)/, 55),
    ],
    explanation:
      'A LimitRange in the namespace sets minimums, maximums or a limit/request ratio per container or pod, and one of the containers the runner built is outside them.',
    causes: ['Job or service resources (or their overwrites) exceed the LimitRange maximum.', 'Requests are below the minimum, or the limit/request ratio is too large.'],
    fix: {
      steps: ['Read the LimitRange (`kubectl get limitrange -o yaml`) and set the runner\'s requests/limits within it.', 'Cap what jobs may ask for with the `*_overwrite_max_allowed` keys.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  cpu_limit = "2"\n  cpu_limit_overwrite_max_allowed = "2"\n  memory_limit = "1Gi"\n  memory_limit_overwrite_max_allowed = "1Gi"' },
    },
    configKeys: ['runners.kubernetes.cpu_limit', 'runners.kubernetes.memory_limit', 'runners.kubernetes.cpu_limit_overwrite_max_allowed'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: maximum cpu usage per Container is 2, but limit is 4',
      'pods "runner-q1w2e3-project-5-concurrent-1" is forbidden: [maximum cpu usage per Container is 2, but limit is 4, maximum memory usage per Container is 1Gi, but limit is 2Gi]',
    ],
    ja: {
      title: 'LimitRangeによりポッドが拒否された',
      explanation: '名前空間のLimitRangeがコンテナやポッドごとの最小値・最大値・比率を定めており、Runnerが作ったコンテナがその範囲外です。',
      fix: ['LimitRangeを確認し、その範囲内でrequests/limitsを設定します。', '`*_overwrite_max_allowed`でジョブが要求できる上限を制限します。'],
    },
  },
  {
    id: 'webhook-denied',
    title: 'An admission webhook or policy engine rejected the pod',
    ref: ownRef('webhook-denied'),
    source: 'gkr',
    symptoms: [
      sym('denied the request', /admission webhook "(?<webhook>[^"]+)" denied the request(?::? (?<reason>.*?))?:?"?$/, 40),
      // The event a policy engine records for a denial (Gatekeeper's FailedAdmission) drops the article.
      sym('denied request:', /[Aa]dmission webhook "(?<webhook>[^"]+)" denied request: (?<reason>.*?)"?$/, 40),
      // Kyverno's block format (the policy/rule list follows on the next lines) and its 1.0-era wording.
      sym('was blocked due to the following policies', /resource (?<resource>\S+) was blocked due to the following policies(?<reason>.*)/, 45),
      sym('failed; rulename: ', /Policy (?<policy>[\w.-]+) failed; rulename: (?<rule>[\w.-]+);?(?<reason>.*)/, 45),
      // Kyverno's event and status wording for a failed validate rule.
      sym('(validation) rule', /policy '(?<policy>[\w.-]+)' \(Validation\) rule '(?<rule>[\w.-]+)' failed\.(?<reason>.*)/, 45),
    ],
    explanation:
      'A validating admission webhook (Gatekeeper, Kyverno, a cloud provider\'s policy, …) looked at the object the runner created and refused it; the reason after "denied the request" is the policy\'s own message.',
    causes: ['A policy requires labels, security settings, registries or resources the runner\'s pods do not have.'],
    fix: {
      steps: [
        'Read the policy named in the message and change the pod to comply: labels/annotations (`pod_labels`, `pod_annotations`), security contexts, image registry, resources.',
        'Or ask the cluster admin to exclude the runner namespace from the policy.',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes.pod_labels]\n  "team" = "ci"\n[runners.kubernetes.build_container_security_context]\n  run_as_non_root = true\n  allow_privilege_escalation = false' },
    },
    configKeys: ['runners.kubernetes.pod_labels', 'runners.kubernetes.pod_annotations', 'runners.kubernetes.pod_security_context'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: admission webhook "validate.kyverno.svc-fail" denied the request: resource Pod/ci/runner-abc-project-1-concurrent-0 was blocked due to the following policies require-labels: check-team: validation error: label team is required',
    ],
    ja: {
      title: 'アドミッションWebhookまたはポリシーエンジンがポッドを拒否した',
      explanation: 'GatekeeperやKyvernoなどの検証Webhookが、Runnerの作成したオブジェクトを拒否しました。「denied the request」の後ろがポリシーの理由です。',
      fix: ['メッセージのポリシーに合わせてラベル、セキュリティコンテキスト、レジストリ、リソースを変更します。', 'またはRunnerの名前空間をポリシーの対象外にしてもらいます。'],
    },
  },
  {
    id: 'image-pull-failed',
    title: 'The node could not pull an image',
    ref: ownRef('image-pull-failed'),
    source: 'gkr',
    symptoms: [
      sym('image pull failed', /image pull failed: (?<reason>.+)/, 45),
      sym('failed to pull image', /Failed to pull image "(?<image>[^"]+)"/i, 45),
      // One symptom per state: the needle must occur in every line its pattern accepts.
      sym('errimagepull', /\b(?<state>ErrImagePull)\b/, 35),
      sym('imagepullbackoff', /\b(?<state>ImagePullBackOff)\b/, 35),
      sym('invalidimagename', /\b(?<state>InvalidImageName)\b/, 35),
      sym('back-off pulling image', /Back-off pulling image "(?<image>[^"]+)"/, 40),
    ],
    explanation:
      'The kubelet on the job\'s node could not fetch the build, helper or service image: the name or tag does not exist, the registry refused the credentials, or the registry is unreachable.',
    causes: [
      'A typo in the image name or a tag that does not exist.',
      'A private registry without (or with wrong) image pull secrets.',
      'The node cannot reach the registry (proxy, DNS, rate limits).',
    ],
    fix: {
      steps: [
        'Check the image reference in .gitlab-ci.yml or `image` in config.toml.',
        'For private registries, create a docker-registry secret in the job namespace and list it in `image_pull_secrets`.',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  image_pull_secrets = ["registry-credentials"]' },
    },
    configKeys: ['runners.kubernetes.image', 'runners.kubernetes.image_pull_secrets', 'runners.kubernetes.pull_policy'],
    checks: [],
    examples: [
      'WARNING: Failed to pull image "registry.example.com/team/app:1.2" for container "build" with policy "IfNotPresent": image pull failed: Back-off pulling image "registry.example.com/team/app:1.2"',
      'ERROR: Job failed (system failure): prepare environment: waiting for pod running: pulling image "alpine:9.99": image pull failed: rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/alpine:9.99"',
      'WARNING: Event retrieved from the cluster: Back-off pulling image "registry.example.com/team/app:1.2"',
    ],
    ja: {
      title: 'ノードがイメージをプルできなかった',
      explanation: 'ジョブのノードのkubeletが、ビルド・ヘルパー・サービスのイメージを取得できませんでした。名前やタグが存在しない、認証が拒否された、レジストリに到達できない、のいずれかです。',
      fix: ['イメージ名とタグを確認します。', 'プライベートレジストリではdocker-registryシークレットを作り`image_pull_secrets`に指定します。'],
    },
  },
  {
    id: 'oom-killed',
    title: 'A container was killed for running out of memory (OOMKilled / exit code 137)',
    ref: ownRef('oom-killed'),
    source: 'gkr',
    symptoms: [
      sym('oomkilled', /Error in container (?<container>[\w-]+): exit code: (?<exitCode>\d+), reason: 'OOMKilled'|OOMKilled/, 60),
      sym('exit code 137', /command terminated with exit code (?<exitCode>137)\b/, 45),
      sym('exit code: 137', /exit code: (?<exitCode>137)\b/, 45),
      sym('memory cgroup out of memory', /Memory cgroup out of memory: Kill(?:ed)? process (?<pid>\d+) \((?<process>[^)]+)\)/, 55),
      sym('invoked oom-killer', /(?<process>\S+) invoked oom-killer:/, 50),
    ],
    explanation:
      'Exit code 137 means the process got SIGKILL. When Kubernetes reports the reason OOMKilled, the container went over its memory limit (or the node ran out of memory). Exit code 137 without OOMKilled means something else killed it: a timeout or cancellation, an eviction, or a process inside the container.',
    causes: ['`memory_limit` (or a service\'s limit) is too low for the job.', 'The node is short of memory and the kernel picked this container.', 'Without OOMKilled: job cancelled, pod evicted or deleted.'],
    fix: {
      steps: [
        'Tell them apart: `kubectl get pod <pod> -o jsonpath=\'{.status.containerStatuses[*].lastState.terminated.reason}\'` shows OOMKilled only for memory kills.',
        'For OOMKilled raise the container\'s memory limit (the job may ask via KUBERNETES_MEMORY_LIMIT up to the allowed maximum) or reduce the job\'s memory use.',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  memory_request = "2Gi"\n  memory_limit = "4Gi"\n  memory_limit_overwrite_max_allowed = "8Gi"' },
    },
    configKeys: ['runners.kubernetes.memory_limit', 'runners.kubernetes.memory_limit_overwrite_max_allowed', 'runners.kubernetes.service_memory_limit'],
    checks: [],
    examples: [
      "ERROR: Job failed (system failure): Error in container build: exit code: 137, reason: 'OOMKilled'",
      'ERROR: Job failed: command terminated with exit code 137',
      '[Thu Dec  7 00:05:15 2017] Memory cgroup out of memory: Kill process 24572 (java) score 0 or sacrifice child',
    ],
    ja: {
      title: 'メモリ不足でコンテナが強制終了された（OOMKilled / 終了コード137）',
      explanation: '終了コード137はSIGKILLを意味します。理由がOOMKilledならメモリ上限を超えたかノードのメモリが不足しました。OOMKilledがなければ、キャンセル、退避、削除など別の理由です。',
      fix: ['ポッドの`lastState.terminated.reason`でOOMKilledかどうかを確認します。', 'OOMKilledならメモリ上限を上げるか、ジョブのメモリ使用量を減らします。'],
    },
  },
  {
    id: 'crash-loop-back-off',
    title: 'A container keeps exiting and is restarted with a growing back-off (CrashLoopBackOff)',
    ref: ownRef('crash-loop-back-off'),
    source: 'gkr',
    symptoms: [
      sym('crashloopbackoff', /(?:container (?<container>[\w-]+): )?CrashLoopBackOff\b|container "(?<quoted>[\w-]+)" is in CrashLoopBackOff/, 60),
      sym('restarting failed container', /[Bb]ack-off (?:\S+ )?restarting failed container(?:=| )(?<failed>[\w-]+)/, 55),
    ],
    explanation:
      'The kubelet started a container, the container\'s process ended, and the pod\'s restartPolicy told the kubelet to start it again; each time it ends again the kubelet waits longer (10 s, doubling up to 5 minutes) and reports CrashLoopBackOff meanwhile. The runner\'s pods use restartPolicy Never, so this means a pod_spec patch, a mutating webhook or policy changed it, and a container (usually a service) exits on start: a missing variable such as POSTGRES_PASSWORD, a wrong command or entrypoint, a port already in use.',
    causes: [
      'A service container exits at start: it lacks a required variable, its command or entrypoint is wrong, or it cannot bind its port.',
      'A `pod_spec` patch (or a mutating webhook) set restartPolicy to Always or OnFailure, so the kubelet restarts the container instead of the job failing at once.',
    ],
    fix: {
      steps: [
        'Read why it exits: `kubectl logs <pod> -c <container> --previous` shows the last run\'s output, `kubectl describe pod <pod>` its exit code.',
        'Fix the service\'s variables, command or entrypoint in .gitlab-ci.yml (or in [[runners.kubernetes.services]]).',
        'Leave restartPolicy at Never: remove it from the pod_spec patches.',
      ],
      snippet: { lang: 'yaml', text: 'services:\n  - name: postgres:16\n    alias: db\n    variables:\n      POSTGRES_PASSWORD: example' },
    },
    configKeys: ['runners.kubernetes.pod_spec'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: pod failed to enter running state: container svc-0: CrashLoopBackOff: back-off 10s restarting failed container=svc-0 pod=runner-abcd1234-project-42-concurrent-0-x7k2q_gitlab-runner(0b6e5c1a-2f7d-4d8e-9a51-5f0c2b7e1d90)',
      'ERROR: Job failed (system failure): prepare environment: container "svc-0" is in CrashLoopBackOff: back-off 20s restarting failed container=svc-0 pod=runner-abcd1234-project-42-concurrent-0-x7k2q_gitlab-runner(0b6e5c1a)',
      'WARNING: Event retrieved from the cluster: Back-off restarting failed container db in pod runner-abcd1234-project-42-concurrent-0-x7k2q_gitlab-runner(0b6e5c1a)',
    ],
    ja: {
      title: 'コンテナが終了と再起動を繰り返している（CrashLoopBackOff）',
      explanation: 'コンテナのプロセスが終了し、ポッドのrestartPolicyによりkubeletが再起動を繰り返しています。再起動の間隔は10秒から最大5分まで延び、その間CrashLoopBackOffと表示されます。ランナーのポッドは通常restartPolicy Neverなので、pod_specのパッチやWebhookで変更されており、サービスなどのコンテナが起動直後に終了しています。',
      fix: ['`kubectl logs <pod> -c <container> --previous`で前回の出力を確認します。', 'サービスの変数、コマンド、エントリポイントを直します。', 'pod_specのパッチからrestartPolicyを外します。'],
    },
  },
  {
    id: 'image-not-allowed',
    title: 'The job image is not in allowed_images',
    ref: ownRef('image-not-allowed'),
    source: 'gkr',
    symptoms: [
      sym('image is not present on list of allowed images', new RegExp(String.raw`The ${Q} image is not present on list of allowed images`), 60),
      sym('disallowed image', /disallowed image/, 40),
    ],
    explanation: 'The runner only accepts job images that match one of the glob patterns in `allowed_images`, and the job\'s image matches none.',
    causes: ['The job uses an image outside the allowed list.', 'The pattern lacks the registry host or uses `*` where `**` is needed across slashes.'],
    fix: {
      steps: ['Use an allowed image in the job, or add a pattern for it to `allowed_images`.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  allowed_images = ["registry.example.com/**", "alpine:*"]' },
    },
    configKeys: ['runners.kubernetes.allowed_images', 'runners.kubernetes.image'],
    checks: [],
    examples: [
      'The "docker.io/library/node:20" image is not present on list of allowed images:',
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: building build container: disallowed image',
    ],
    ja: {
      title: 'ジョブのイメージがallowed_imagesにない',
      explanation: 'Runnerは`allowed_images`のいずれかのパターンに一致するイメージだけを受け付けますが、ジョブのイメージはどれにも一致しません。',
      fix: ['許可されたイメージを使うか、`allowed_images`にパターンを追加します。'],
    },
  },
  {
    id: 'service-not-allowed',
    title: 'A job service is not in allowed_services',
    ref: ownRef('service-not-allowed'),
    source: 'gkr',
    symptoms: [sym('image is not present on list of allowed services', new RegExp(String.raw`The ${Q} image is not present on list of allowed services`), 60)],
    explanation: 'The runner only accepts service images that match a pattern in `allowed_services`, and one of the job\'s services matches none.',
    causes: ['The job lists a service image outside the allowed list.'],
    fix: {
      steps: ['Use an allowed service image, or add a pattern for it to `allowed_services`.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  allowed_services = ["docker:*-dind", "postgres:*"]' },
    },
    configKeys: ['runners.kubernetes.allowed_services', 'runners.kubernetes.services'],
    checks: [],
    examples: ['The "redis:7" image is not present on list of allowed services:'],
    ja: {
      title: 'ジョブのサービスがallowed_servicesにない',
      explanation: 'Runnerは`allowed_services`のパターンに一致するサービスイメージだけを受け付けますが、ジョブのサービスが一致しません。',
      fix: ['許可されたサービスイメージを使うか、`allowed_services`にパターンを追加します。'],
    },
  },
  {
    id: 'namespace-overwrite-not-allowed',
    title: 'A job overwrite (namespace, service account, labels…) is not allowed',
    ref: ownRef('namespace-overwrite-not-allowed'),
    source: 'gkr',
    symptoms: [
      sym("couldn't prepare overwrites: provided value", /couldn't prepare overwrites: provided value "(?<value>[^"]*)" does not match "(?<pattern>[^"]*)"/, 55),
      sym('namespace is not allowed', /overwrite of (?<what>\w+) in the "(?<namespace>[^"]+)" namespace is not allowed/, 55),
    ],
    explanation:
      'The job set an overwrite variable (KUBERNETES_NAMESPACE_OVERWRITE, KUBERNETES_SERVICE_ACCOUNT_OVERWRITE, pod labels…) whose value does not match the regular expression in the matching `*_overwrite_allowed` key.',
    causes: ['The `*_overwrite_allowed` regex is too narrow (it must match the whole value).', 'The job variable has a typo.'],
    fix: {
      steps: ['Widen the regex in the matching `*_overwrite_allowed` key, or change the variable in .gitlab-ci.yml.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  namespace_overwrite_allowed = "ci-.*"\n  service_account_overwrite_allowed = "ci-.*"' },
    },
    configKeys: ['runners.kubernetes.namespace_overwrite_allowed', 'runners.kubernetes.service_account_overwrite_allowed', 'runners.kubernetes.pod_labels_overwrite_allowed'],
    checks: [],
    examples: ['ERROR: Job failed (system failure): prepare environment: couldn\'t prepare overwrites: provided value "production" does not match "ci-.*"'],
    ja: {
      title: 'ジョブの上書き（名前空間・サービスアカウントなど）が許可されていない',
      explanation: 'ジョブが上書き用の変数を設定しましたが、その値が対応する`*_overwrite_allowed`の正規表現に一致しません。',
      fix: ['対応する`*_overwrite_allowed`の正規表現を広げるか、.gitlab-ci.ymlの変数を修正します。'],
    },
  },
  {
    id: 'scheduling-failed',
    title: 'The scheduler found no node for the pod (FailedScheduling)',
    ref: ownRef('scheduling-failed'),
    source: 'gkr',
    symptoms: [
      sym('nodes are available: ', /(?<available>\d+)\/(?<total>\d+) nodes are available: (?<reasons>[^.]+)/, 35),
      // Schedulers before Kubernetes 1.10.
      sym('no nodes are available that match all of the following predicates', /No nodes are available that match all of the following predicates::? (?<reasons>[^.]+)/, 35),
      sym('failed to fit in any node', /pod \((?<pod>[^)]+)\) failed to fit in any node/, 35),
      // Karpenter's reason when no node it could launch would fit the pod.
      sym('failed to schedule pod', /Failed to schedule pod, (?<reasons>.+)/, 35),
    ],
    explanation:
      'No node passed the scheduler\'s filters: node selector and affinity, taints the pod does not tolerate, or not enough allocatable CPU/memory. The pod stays Pending until `poll_timeout` ends the job.',
    causes: ['`node_selector`/affinity matches no (ready) node.', 'Nodes carry taints the job pod does not tolerate.', 'Requests larger than any node\'s free capacity.'],
    fix: {
      steps: ['Read the reasons (counts per node) in the message.', 'Adjust `node_selector`, add `node_tolerations`, or lower requests; or add nodes.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes.node_selector]\n  "kubernetes.io/os" = "linux"\n[runners.kubernetes.node_tolerations]\n  "dedicated=ci" = "NoSchedule"' },
    },
    configKeys: ['runners.kubernetes.node_selector', 'runners.kubernetes.node_tolerations', 'runners.kubernetes.affinity', 'runners.kubernetes.cpu_request'],
    checks: [],
    examples: [
      'Event retrieved from the cluster: 0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn\'t match Pod\'s node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    ],
    ja: {
      title: 'スケジューラーがポッドを配置できるノードを見つけられない（FailedScheduling）',
      explanation: 'ノードセレクターやアフィニティ、許容されないテイント、空きCPU/メモリ不足のため、どのノードもスケジューラーの条件を満たしませんでした。',
      fix: ['メッセージの理由を確認します。', '`node_selector`や`node_tolerations`、requestsを調整するか、ノードを追加します。'],
    },
  },
  {
    id: 'volume-source-missing',
    title: 'A volume source the pod mounts does not exist',
    ref: ownRef('volume-source-missing'),
    source: 'gkr',
    symptoms: [
      sym('mountvolume.setup failed for volume', /MountVolume\.SetUp failed for volume "(?<volume>[^"]+)" : (?<kind>configmap|secret)s? "(?<name>[^"]+)" not found/, 45),
      sym('persistentvolumeclaim', /persistentvolumeclaim "(?<name>[^"]+)" not found/, 45),
      sym('not found in the list of registered csi drivers', /driver name (?<driver>\S+) not found in the list of registered CSI drivers/, 45),
      sym("couldn't find key", /couldn't find key (?<key>\S+) in (?<kind>ConfigMap|Secret) (?<name>\S+)/, 45),
      // The kubelet's container-config error for an env var or envFrom source (CreateContainerConfigError).
      sym('" not found', /Error: (?<kind>secret|configmap)s? "(?<name>[^"]+)" not found/, 45),
      sym('unable to attach or mount volumes', /Unable to attach or mount volumes: unmounted volumes=\[(?<volumes>[^\]]*)\]/, 35),
    ],
    explanation: 'The pod refers to a config map, secret, persistent volume claim, key or CSI driver that is not there, so the kubelet cannot mount it and the pod never starts.',
    causes: ['The object lives in another namespace than the job.', 'A typo in the name or item key.', 'The CSI driver is not installed on the node.'],
    fix: {
      steps: ['Create the missing object in the job namespace (or fix the name/key in config.toml).', 'For CSI, install the driver on the nodes jobs run on.'],
      snippet: { lang: 'toml', text: '[[runners.kubernetes.volumes.config_map]]\n  name = "ci-settings"\n  mount_path = "/etc/ci"\n  [runners.kubernetes.volumes.config_map.items]\n    "settings.json" = "settings.json"' },
    },
    configKeys: ['runners.kubernetes.volumes.config_map', 'runners.kubernetes.volumes.secret', 'runners.kubernetes.volumes.pvc', 'runners.kubernetes.volumes.csi'],
    checks: [],
    examples: [
      'Event retrieved from the cluster: MountVolume.SetUp failed for volume "cfg" : configmap "ci-settings" not found',
      'Event retrieved from the cluster: persistentvolumeclaim "build-cache" not found',
      'WARNING: Event retrieved from the cluster: Unable to attach or mount volumes: unmounted volumes=[cache], unattached volumes=[cache repo scripts logs]: timed out waiting for the condition',
    ],
    ja: {
      title: 'ポッドがマウントするボリュームのソースが存在しない',
      explanation: 'ポッドが参照するConfigMap、Secret、PVC、キー、CSIドライバーのいずれかが存在しないため、kubeletがマウントできずポッドが起動しません。',
      fix: ['ジョブの名前空間に不足しているオブジェクトを作成するか、config.tomlの名前やキーを修正します。', 'CSIの場合はノードにドライバーをインストールします。'],
    },
  },
  {
    id: 'runtime-class-missing',
    title: 'The runtime class does not exist',
    ref: ownRef('runtime-class-missing'),
    source: 'gkr',
    symptoms: [sym('runtimeclass "', new RegExp(String.raw`RuntimeClass ${Q} not found`), 60)],
    explanation: 'The runner asks for a RuntimeClass (`runtime_class_name`) that the cluster does not define, so the API server rejects the pod.',
    causes: ['`runtime_class_name` names a class that is not installed (for example gvisor or kata).'],
    fix: {
      steps: ['Install the RuntimeClass and its handler on the nodes, or remove/fix `runtime_class_name`.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  runtime_class_name = "gvisor"' },
    },
    configKeys: ['runners.kubernetes.runtime_class_name'],
    checks: [],
    examples: ['ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: pod rejected: RuntimeClass "gvisor" not found'],
    ja: {
      title: 'RuntimeClassが存在しない',
      explanation: 'Runnerが指定したRuntimeClass（`runtime_class_name`）がクラスターにないため、APIサーバーがポッドを拒否しました。',
      fix: ['RuntimeClassとハンドラーをインストールするか、`runtime_class_name`を修正します。'],
    },
  },
  {
    id: 'service-account-missing',
    title: 'The service account for job pods does not exist',
    ref: ownRef('service-account-missing'),
    source: 'gkr',
    symptoms: [
      sym('serviceaccount', /serviceaccounts? "(?<name>[^"]+)" not found/i, 55),
      sym('timed out while waiting for serviceaccount', /Timed out while waiting for ServiceAccount\/(?<name>\S+) to be present in the cluster/, 55),
    ],
    explanation: 'Job pods are to run as a service account (`service_account`, or a job overwrite) that does not exist in the job namespace.',
    causes: ['The service account was created in another namespace.', 'A typo, or an overwrite value that names a missing account.'],
    fix: {
      steps: ['Create the service account in the job namespace (`kubectl create serviceaccount <name> -n <namespace>`) or fix `service_account`.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  service_account = "ci-jobs"' },
    },
    configKeys: ['runners.kubernetes.service_account', 'runners.kubernetes.service_account_overwrite_allowed'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: error looking up service account ci/ci-jobs: serviceaccount "ci-jobs" not found',
      'Timed out while waiting for ServiceAccount/ci-jobs to be present in the cluster',
    ],
    ja: {
      title: 'ジョブポッド用のサービスアカウントが存在しない',
      explanation: 'ジョブポッドが使うサービスアカウント（`service_account`または上書き）がジョブの名前空間に存在しません。',
      fix: ['ジョブの名前空間にサービスアカウントを作成するか、`service_account`を修正します。'],
    },
  },
  {
    id: 'priority-class-missing',
    title: 'The priority class does not exist',
    ref: ownRef('priority-class-missing'),
    source: 'gkr',
    symptoms: [sym('no priorityclass with name', /no PriorityClass with name (?<name>\S+) was found/, 60)],
    explanation: 'The pod names a PriorityClass (`priority_class_name`) the cluster does not have, so the API server refuses it.',
    causes: ['`priority_class_name` is misspelt or the class was never created.'],
    fix: {
      steps: ['Create the PriorityClass or fix `priority_class_name`.'],
      snippet: { lang: 'yaml', text: 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: ci-jobs\nvalue: 1000' },
    },
    configKeys: ['runners.kubernetes.priority_class_name'],
    checks: [],
    examples: ['ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: no PriorityClass with name ci-high was found'],
    ja: {
      title: 'PriorityClassが存在しない',
      explanation: 'ポッドが指定したPriorityClass（`priority_class_name`）がクラスターにないため、APIサーバーが拒否しました。',
      fix: ['PriorityClassを作成するか、`priority_class_name`を修正します。'],
    },
  },
  {
    id: 'config-invalid',
    title: 'The runner configuration has an invalid value',
    ref: ownRef('config-invalid'),
    source: 'gkr',
    symptoms: [
      sym('config: unsupported pull policy', /(?<key>allowed_pull_policies|pull_policy) config: unsupported pull policy: "(?<value>[^"]*)"/, 50),
      sym('unsupported ostype', /unsupported OSType "(?<value>[^"]*)"/, 50),
      sym("falling back to cluster's default policy", /falling back to cluster's default policy: (?<reason>.+)/, 45),
      sym('failed to load config', /Failed to load config (?<reason>.+?)(?:\s+builds=\d+)?$/, 45),
    ],
    explanation: 'A value in config.toml (or the Helm values that render it) is not one the runner understands, so it refuses the job or ignores the setting.',
    causes: ['A misspelt enum value (pull policy, DNS policy, OS in node_selector).', 'config.toml missing or not valid TOML.'],
    fix: {
      steps: ['Run `gkr doctor -c config.toml` to see the exact key, line and allowed values.', 'Correct the value and restart (or let the runner reload) the configuration.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  pull_policy = ["if-not-present"]\n  dns_policy = "cluster-first"' },
    },
    configKeys: ['runners.kubernetes.pull_policy', 'runners.kubernetes.allowed_pull_policies', 'runners.kubernetes.dns_policy', 'runners.kubernetes.node_selector'],
    checks: [],
    examples: [
      'ERROR: Preparation failed: getting allowed pull policies: allowed_pull_policies config: unsupported pull policy: "sometimes"',
      'WARNING: falling back to cluster\'s default policy: unsupported DNS policy "clusterfirst"',
    ],
    ja: {
      title: 'Runnerの設定に無効な値がある',
      explanation: 'config.toml（またはそれを生成するHelmのvalues）の値をRunnerが解釈できず、ジョブを拒否するか設定を無視しました。',
      fix: ['`gkr doctor -c config.toml`で該当するキー・行・許可される値を確認します。', '値を修正して設定を読み込み直します。'],
    },
  },
  {
    id: 'gitlab-unreachable',
    title: 'The runner cannot reach GitLab',
    ref: ownRef('gitlab-unreachable'),
    source: 'gkr',
    symptoms: [
      sym("couldn't execute ", /couldn't execute (?<method>POST|GET|PUT|PATCH) against (?<url>\S+?): (?<reason>.+)/, 45),
      sym('x509: certificate signed by unknown authority', /x509: certificate signed by unknown authority/, 25),
      // git in the job (or the shell executor) not trusting GitLab's certificate while fetching sources.
      sym('server certificate verification failed', /server certificate verification failed\. CAfile: (?<caFile>\S+)/, 40),
      sym('ssl certificate problem', /unable to access '(?<url>[^']+)': SSL certificate problem: (?<reason>.+)/, 40),
    ],
    explanation:
      'The runner (or gkr) could not complete an HTTPS request to the GitLab instance: the name does not resolve, the connection is refused or times out, or the server\'s certificate is not trusted.',
    causes: ['DNS or network path to GitLab broken (proxy, firewall).', 'A self-signed or private CA certificate that the runner does not trust.'],
    fix: {
      steps: [
        'Check `url` in config.toml and that it resolves from the runner\'s pod.',
        'For a private CA, give the runner the CA bundle with `tls-ca-file` (Helm: `certsSecretName`).',
      ],
      snippet: { lang: 'toml', text: '[[runners]]\n  url = "https://gitlab.example.com"\n  tls-ca-file = "/etc/gitlab-runner/certs/gitlab.example.com.crt"' },
    },
    configKeys: ['runners.url', 'runners.tls-ca-file', 'runners.clone_url'],
    checks: ['gitlab-url-reachable'],
    examples: [
      'ERROR: Checking for jobs... failed                  runner=z36gYwsv status=couldn\'t execute POST against https://gitlab.example.com/api/v4/jobs/request: Post "https://gitlab.example.com/api/v4/jobs/request": dial tcp: lookup gitlab.example.com on 10.96.0.10:53: no such host',
      'ERROR: Verifying runner... failed                   runner=z36gYwsv status=couldn\'t execute POST against https://gitlab.internal/api/v4/runners/verify: Post "https://gitlab.internal/api/v4/runners/verify": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    ],
    ja: {
      title: 'RunnerがGitLabに到達できない',
      explanation: 'RunnerまたはgkrがGitLabへのHTTPS要求を完了できませんでした。名前解決の失敗、接続拒否やタイムアウト、証明書が信頼されていない、のいずれかです。',
      fix: ['config.tomlの`url`を確認し、Runnerのポッドから解決できるか確かめます。', 'プライベートCAの場合は`tls-ca-file`でCAバンドルを指定します。'],
    },
  },
  {
    id: 'runner-token-invalid',
    title: "GitLab does not accept the runner's token",
    ref: ownRef('runner-token-invalid'),
    source: 'gkr',
    symptoms: [
      sym('verifying runner... is removed', /Verifying runner\.\.\. is removed/, 60),
      sym('checking for jobs... forbidden', /Checking for jobs\.\.\. forbidden/, 60),
      sym('403 forbidden', /status=(?:POST|GET) (?<url>\S+?): 403 Forbidden/, 55),
      sym('registering runner... forbidden', /Registering runner\.\.\. forbidden(?: \((?<reason>[^)]+)\))?/, 55),
    ],
    explanation: 'GitLab answered 403 to the runner\'s token: the runner was deleted or its token was reset or revoked, or the config holds a registration token instead of an authentication token.',
    causes: ['The runner was removed in GitLab, or its token was reset.', '`token` holds a registration token (glrt- tokens are authentication tokens).'],
    fix: {
      steps: ['Create or re-register the runner in GitLab and put the new authentication token into `token` (Helm: the runner secret).'],
      snippet: { lang: 'toml', text: '[[runners]]\n  url = "https://gitlab.example.com"\n  token = "glrt-…"  # authentication token, keep it in a secret' },
    },
    configKeys: ['runners.token'],
    checks: ['gitlab-token-valid'],
    examples: [
      'ERROR: Verifying runner... is removed                runner=z36gYwsv',
      'WARNING: Checking for jobs... forbidden              runner=z36gYwsv status=POST https://gitlab.example.com/api/v4/jobs/request: 403 Forbidden',
    ],
    ja: {
      title: 'GitLabがRunnerのトークンを受け付けない',
      explanation: 'GitLabがRunnerのトークンに403を返しました。Runnerが削除された、トークンがリセットされた、または認証トークンではなく登録トークンが設定されています。',
      fix: ['GitLabでRunnerを作成し直し、新しい認証トークンを`token`に設定します。'],
    },
  },
]
