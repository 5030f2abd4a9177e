/**
 * Entries for the sections of GitLab's "Troubleshooting the Kubernetes executor" page, in page order.
 * The ids are the page's English anchors; every explanation and translation here is our own wording.
 */
import type { CatalogEntry } from '../types.js'
import { docRef, sym } from './helpers.js'

const IP = String.raw`(?<address>(?:\[[\w.:]+\]|[\w.-]+)(?::\w+)?)`

export const documentedEntries: CatalogEntry[] = [
  {
    id: 'job-failed-system-failure-timed-out-waiting-for-pod-to-start',
    title: 'Job failed (system failure): timed out waiting for pod to start',
    ref: docRef('job-failed-system-failure-timed-out-waiting-for-pod-to-start'),
    source: 'gitlab-docs',
    symptoms: [
      sym('timed out waiting for pod to start', /timed out waiting for pod to start(?: \(last phase: (?<phase>\w+)\))?/, 50),
      sym('pod failed to enter running state', /pod failed to enter running state: (?<phase>\w+)/, 45),
      // The runner prints the pod's conditions while it waits; alone (no later stage) they mean it never started.
      sym('containersnotready', /ContainersNotReady: "containers with unready status: \[(?<containers>[^\]]*)\]"/, 15),
    ],
    explanation:
      'The runner created the build pod and then polled it until `poll_timeout` ran out without the pod reaching Running. The pod was still Pending: not yet scheduled, still pulling images, or waiting for volumes.',
    causes: [
      'No node has room for the pod, or none matches its node selector, affinity and tolerations.',
      'Large images take longer to pull than `poll_timeout` allows.',
      'A volume, secret or config map the pod mounts does not exist yet.',
    ],
    fix: {
      steps: [
        'Look at the pod\'s events (`kubectl describe pod` or `print_pod_warning_events`) to learn why it stayed Pending.',
        'Fix the scheduling or image problem shown there; if the cluster is merely slow (autoscaling), raise `poll_timeout`.',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  poll_interval = 3\n  poll_timeout = 600' },
    },
    configKeys: ['runners.kubernetes.poll_timeout', 'runners.kubernetes.poll_interval'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start',
      'ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start (last phase: Pending)',
    ],
    ja: {
      title: 'Job failed (system failure): ポッドの起動待ちがタイムアウトしました',
      explanation: 'Runnerはビルドポッドを作成しましたが、`poll_timeout`の間にポッドがRunningになりませんでした。スケジュール待ち、イメージのプル、ボリューム待ちのいずれかでPendingのままです。',
      fix: ['ポッドのイベントを確認し、Pendingの理由を特定します。', '原因を解消します。クラスターが単に遅い場合は`poll_timeout`を増やします。'],
    },
  },
  {
    id: 'context-deadline-exceeded',
    title: 'context deadline exceeded',
    ref: docRef('context-deadline-exceeded'),
    source: 'gitlab-docs',
    symptoms: [
      sym('context deadline exceeded', /context deadline exceeded/, 20),
      sym('etcdserver: ', /etcdserver: (?<etcdError>request timed out|leader changed)/, 25),
      sym('resource quota evaluates timeout', /resource quota evaluates timeout/, 25),
      sym('net/http: tls handshake timeout', /net\/http: TLS handshake timeout/, 22),
      sym('request did not complete within allowed duration', /request did not complete within allowed duration/, 30),
    ],
    explanation:
      'A call the runner made to the Kubernetes API server gave up before an answer came back, or the API server itself reported that its storage (etcd) or quota evaluation timed out. The cluster control plane is slow or overloaded.',
    causes: [
      'kube-apiserver is overloaded (high latency, many requests).',
      'etcd is slow or changing leader.',
      'Quota evaluation in the API server timed out.',
    ],
    fix: {
      steps: [
        'Check kube-apiserver and etcd metrics for latency and error rates on pod, secret and config map requests.',
        'Reduce load on the control plane (fewer concurrent jobs, fewer watchers) or scale it up.',
        'Retry the job once the control plane is healthy.',
      ],
    },
    configKeys: ['concurrent', 'runners.kubernetes.poll_timeout'],
    checks: [],
    examples: [
      'Job failed (system failure): prepare environment: context deadline exceeded',
      'Job failed (system failure): prepare environment: setting up build pod: context deadline exceeded',
      'Job failed (system failure): prepare environment: etcdserver: request timed out',
      'Job failed (system failure): prepare environment: etcdserver: leader changed',
      'Job failed (system failure): prepare environment: Internal error occurred: resource quota evaluates timeout',
      'Error cleaning up secrets: etcdserver: request timed out',
      'Error cleaning up secrets: etcdserver: leader changed',
      'Error cleaning up pod: etcdserver: request timed out, possibly due to previous leader failure',
      'Error cleaning up pod: etcdserver: request timed out',
      'Error cleaning up pod: context deadline exceeded',
    ],
    ja: {
      title: 'context deadline exceeded（期限切れ）',
      explanation: 'RunnerがKubernetes APIサーバーに送った要求が応答前に打ち切られたか、APIサーバー自身がetcdやクォータ評価のタイムアウトを返しました。コントロールプレーンが遅いか過負荷です。',
      fix: ['kube-apiserverとetcdのレイテンシーとエラー率を確認します。', 'コントロールプレーンの負荷を減らすか増強し、ジョブを再実行します。'],
    },
  },
  {
    id: 'dial-tcp-xxxxxxxxxx-io-timeout',
    title: 'Dial tcp xxx.xx.x.x:xxx: i/o timeout',
    ref: docRef('dial-tcp-xxxxxxxxxx-io-timeout'),
    source: 'gitlab-docs',
    symptoms: [sym('i/o timeout', new RegExp(String.raw`dial tcp ${IP}:? i/o timeout`, 'i'), 30)],
    explanation:
      'The runner manager opened a TCP connection to the Kubernetes API server and got no answer at all. Packets are being dropped on the way: the API server is unreachable from where the runner runs.',
    causes: [
      'A network policy, firewall or security group blocks the API server port (usually 443 or 6443).',
      'The API server is down or its address in the runner configuration is wrong.',
    ],
    fix: {
      steps: [
        'From the runner manager\'s pod or host, try `curl -k https://<api-server>:443/version` (and 6443).',
        'Allow egress from the runner to the API server in network policies and firewalls.',
        'Make sure `host` in `[runners.kubernetes]` (or the kubeconfig) points at the right address.',
      ],
      snippet: {
        lang: 'yaml',
        text: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: runner-to-apiserver\nspec:\n  podSelector:\n    matchLabels:\n      app: gitlab-runner\n  policyTypes: [Egress]\n  egress:\n    - ports:\n        - port: 443\n        - port: 6443',
      },
    },
    configKeys: ['runners.kubernetes.host'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up credentials: Post "https://10.96.0.1:443/api/v1/namespaces/gitlab/secrets": dial tcp 10.96.0.1:443: i/o timeout',
    ],
    ja: {
      title: 'Dial tcp xxx.xx.x.x:xxx: i/o timeout（接続タイムアウト）',
      explanation: 'RunnerマネージャーがKubernetes APIサーバーへのTCP接続を開こうとしましたが、応答がありませんでした。途中でパケットが破棄されており、APIサーバーに到達できません。',
      fix: ['Runnerの場所からAPIサーバーのポート（443や6443）へ接続できるか確認します。', 'ネットワークポリシーやファイアウォールでAPIサーバーへの通信を許可します。'],
    },
  },
  {
    id: 'connection-refused-when-attempting-to-communicate-with-the-kubernetes-api',
    title: 'Connection refused when attempting to communicate with the Kubernetes API',
    ref: docRef('connection-refused-when-attempting-to-communicate-with-the-kubernetes-api'),
    source: 'gitlab-docs',
    symptoms: [
      sym('connection refused', new RegExp(String.raw`dial tcp ${IP}:? (?:connect: |getsockopt: )?connection refused`), 30),
      sym('was refused - did you specify the right host or port', /The connection to the server (?<address>\S+) was refused/, 30),
    ],
    explanation:
      'The runner reached the API server\'s address but nothing accepted the connection. kube-apiserver is not listening there right now, typically because it is restarting or too overloaded to accept requests.',
    causes: ['kube-apiserver is restarting, crashed or overloaded.', 'The runner points at the wrong port.'],
    fix: {
      steps: [
        'Check the health of the control-plane nodes and the kube-apiserver instances.',
        'Give the control plane enough resources for the number of pods you run.',
        'Verify the API server address and port the runner uses.',
      ],
    },
    configKeys: ['runners.kubernetes.host'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: Post "https://10.96.0.1:443/api/v1/namespaces/ci/pods": dial tcp 10.96.0.1:443: connect: connection refused',
    ],
    ja: {
      title: 'Kubernetes APIとの通信で接続が拒否される',
      explanation: 'APIサーバーのアドレスには届きましたが、接続を受け付けるプロセスがありません。kube-apiserverが再起動中か、過負荷で要求を受けられない状態です。',
      fix: ['コントロールプレーンとkube-apiserverの状態を確認します。', 'コントロールプレーンに十分なリソースを割り当て、アドレスとポートを確認します。'],
    },
  },
  {
    id: 'error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running',
    title: 'Error cleaning up pod and Job failed (system failure): prepare environment: waiting for pod running',
    ref: docRef('error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running'),
    source: 'gitlab-docs',
    symptoms: [
      sym('error cleaning up pod', /Error cleaning up pod: (?:Delete )?"(?<url>[^"]+)": dial tcp (?<address>\S+?):? connect: connection refused/, 40),
      sym('waiting for pod running', /waiting for pod running: (?:Get )?"(?<url>[^"]+)": dial tcp (?<address>\S+?):? connect: connection refused/, 40),
    ],
    explanation:
      'While the runner waited for the build pod to start, the API server stopped accepting connections; the clean-up that followed failed for the same reason. The control plane could not cope with the number of pods being scheduled.',
    causes: ['kube-apiserver ran out of resources while many pods were being scheduled.', 'Pods take too long to become ready.'],
    fix: {
      steps: [
        'Check every node that runs kube-apiserver for CPU, memory and restarts.',
        'Size the control plane for the number of concurrent job pods.',
        'If pods are just slow to become ready, raise `poll_timeout`.',
        'Remove pods left behind by the failed clean-up (`gkr cleanup`).',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  poll_timeout = 600' },
    },
    configKeys: ['runners.kubernetes.poll_timeout', 'concurrent'],
    checks: [],
    examples: [
      'Error: Error cleaning up pod: Delete "https://xx.xx.xx.x:443/api/v1/namespaces/gitlab-runner/runner-0001": dial tcp xx.xx.xx.x:443 connect: connection refused',
      'Error: Job failed (system failure): prepare environment: waiting for pod running: Get "https://xx.xx.xx.x:443/api/v1/namespaces/gitlab-runner/runner-0001": dial tcp xx.xx.xx.x:443 connect: connection refused',
    ],
    ja: {
      title: 'Error cleaning up podとwaiting for pod running',
      explanation: 'ビルドポッドの起動を待つ間にAPIサーバーが接続を受け付けなくなり、その後のクリーンアップも同じ理由で失敗しました。コントロールプレーンがスケジュールするポッド数に追いついていません。',
      fix: ['kube-apiserverが動くノードのリソースを確認します。', 'コントロールプレーンを同時実行ジョブ数に合わせて増強し、必要なら`poll_timeout`を増やします。'],
    },
  },
  {
    id: 'request-did-not-complete-within-requested-timeout',
    title: 'request did not complete within requested timeout',
    ref: docRef('request-did-not-complete-within-requested-timeout'),
    source: 'gitlab-docs',
    symptoms: [
      sym('request did not complete within requested timeout', /request did not complete within requested timeout/, 40),
      sym('failed calling webhook', /failed calling webhook "(?<webhook>[^"]+)"/, 45),
    ],
    explanation:
      'An admission webhook that intercepts the runner\'s API calls (creating the credentials secret or the build pod) did not answer in time, so the API server rejected the request.',
    causes: [
      'A validating or mutating webhook is slow, has no ready endpoints, or is unreachable from the API server.',
      'The webhook matches the runner\'s namespace or pods although it does not need to.',
    ],
    fix: {
      steps: [
        'Find the webhook (`kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations`) and check its service endpoints.',
        'Exclude the runner namespace with the webhook\'s namespaceSelector, or exclude runner pods with an objectSelector label.',
        'Set that label on job pods with `pod_labels` (or `podLabels` in the Helm chart for the manager).',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes.pod_labels]\n  "webhook.example.com/skip" = "true"' },
    },
    configKeys: ['runners.kubernetes.pod_labels', 'runners.kubernetes.pod_annotations'],
    checks: [],
    examples: [
      'Job failed (system failure): prepare environment: Timeout: request did not complete within requested timeout',
      'Job failed (system failure): prepare environment: setting up credentials: Timeout: request did not complete within requested timeout',
      'Job failed (system failure): prepare environment: setting up credentials: Internal error occurred: failed calling webhook "example.webhook.service"',
    ],
    ja: {
      title: 'request did not complete within requested timeout（Webhookのタイムアウト）',
      explanation: 'Runnerの API 呼び出しを横取りするアドミッションWebhookが時間内に応答せず、APIサーバーが要求を拒否しました。',
      fix: ['該当するWebhookとそのサービスのエンドポイントを確認します。', 'namespaceSelectorやobjectSelectorでRunnerの名前空間やポッドを対象外にし、`pod_labels`でラベルを付けます。'],
    },
  },
  {
    id: 'error-could-not-resolve-host-examplecom',
    title: 'Error: Could not resolve host: example.com',
    ref: docRef('error-could-not-resolve-host-examplecom'),
    source: 'gitlab-docs',
    symptoms: [sym('could not resolve host', /Could not resolve host:(?: (?<host>[^\s'"]+))?/i, 40)],
    explanation:
      'Inside the job pod, git or curl could not turn the GitLab host name into an address. With the Alpine-based helper image this is often the musl resolver handling the cluster\'s DNS search domains differently.',
    causes: ['The Alpine helper image\'s musl DNS resolver.', 'Cluster DNS is unreachable from the job pod or the name does not exist.'],
    fix: {
      steps: ['Switch the helper image to the Ubuntu flavor.', 'If it still fails, check the pod\'s DNS policy and that CoreDNS answers from the job\'s node.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  helper_image_flavor = "ubuntu"' },
    },
    configKeys: ['runners.kubernetes.helper_image_flavor', 'runners.kubernetes.dns_policy'],
    checks: [],
    examples: ["fatal: unable to access 'https://gitlab-ci-token:token@example.com/repo/proj.git/': Could not resolve host: example.com"],
    ja: {
      title: 'エラー: Could not resolve host（名前解決の失敗）',
      explanation: 'ジョブポッド内のgitやcurlがGitLabのホスト名を解決できませんでした。Alpineベースのヘルパーイメージではmuslのリゾルバーが原因になることがよくあります。',
      fix: ['`helper_image_flavor = "ubuntu"`に切り替えます。', 'それでも失敗する場合はDNSポリシーとCoreDNSの応答を確認します。'],
    },
  },
  {
    id: 'docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running',
    title: 'docker: Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?',
    ref: docRef('docker-cannot-connect-to-the-docker-daemon-at-tcpdocker2375-is-the-docker-daemon-running'),
    source: 'gitlab-docs',
    symptoms: [sym('cannot connect to the docker daemon', /Cannot connect to the Docker daemon at (?<daemon>\S+?)\.? Is the docker daemon running\?/, 40)],
    explanation:
      'The job\'s script called docker before the Docker-in-Docker service container had finished starting. In the Kubernetes executor services start alongside the build container, so the script can win the race.',
    causes: ['The dind service is still starting.', 'DOCKER_HOST or TLS settings do not match how the dind service listens.'],
    fix: {
      steps: ['Wait for the daemon at the start of the script before using it.', 'Make sure DOCKER_HOST matches the service (tcp://docker:2375 without TLS, tcp://docker:2376 with TLS).'],
      snippet: {
        lang: 'yaml',
        text: 'build:\n  services:\n    - docker:dind\n  variables:\n    DOCKER_HOST: tcp://docker:2375\n    DOCKER_TLS_CERTDIR: ""\n  before_script:\n    - until docker info >/dev/null 2>&1; do sleep 1; done',
      },
    },
    configKeys: ['runners.kubernetes.services'],
    checks: [],
    examples: ['docker: Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?'],
    ja: {
      title: 'docker: Docker デーモンに接続できない（tcp://docker:2375）',
      explanation: 'Docker-in-Dockerサービスの起動が終わる前にスクリプトがdockerを呼び出しました。Kubernetes executorではサービスとビルドコンテナが同時に起動するため、起こりえます。',
      fix: ['スクリプトの最初でデーモンの準備ができるまで待ちます。', 'DOCKER_HOSTをサービスの待ち受け方法に合わせます。'],
    },
  },
  {
    id: 'curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443',
    title: 'curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to github.com:443',
    ref: docRef('curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443'),
    source: 'gitlab-docs',
    symptoms: [
      sym('ssl_error_syscall in connection to', /SSL_connect: SSL_ERROR_SYSCALL in connection to (?<host>[\w.-]+):(?<port>\d+)/, 40),
      // What a packet capture on the node shows for the same MTU mismatch.
      sym('need to frag', /unreachable - need to frag \(mtu (?<mtu>\d+)\)/, 40),
    ],
    explanation:
      'A TLS handshake made from inside Docker-in-Docker broke off. dind uses an MTU of 1500 by default, which is larger than the overlay network of many clusters, so large packets such as TLS handshakes are silently dropped.',
    causes: ['The dind MTU is larger than the pod network\'s MTU.'],
    fix: {
      steps: ['Find the pod network MTU (for example `ip link` in a job pod).', 'Start dind with a matching `--mtu`.'],
      snippet: { lang: 'yaml', text: 'services:\n  - name: docker:dind\n    command: ["--mtu=1450"]' },
    },
    configKeys: ['runners.kubernetes.services'],
    checks: [],
    examples: ['curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to github.com:443'],
    ja: {
      title: 'curl: (35) SSL_ERROR_SYSCALL（DinDのMTU）',
      explanation: 'Docker-in-Docker内からのTLSハンドシェイクが途中で切れました。dindの既定MTU 1500がクラスターのオーバーレイネットワークより大きく、大きなパケットが破棄されています。',
      fix: ['ポッドネットワークのMTUを調べます。', 'dindを合わせた`--mtu`で起動します。'],
    },
  },
  {
    id: 'mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows',
    title: 'MountVolume.SetUp failed for volume "kube-api-access-xxxxx" : chown is not supported by windows',
    ref: docRef('mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'),
    source: 'gitlab-docs',
    symptoms: [
      sym('not supported by windows', /MountVolume\.SetUp failed for volume "(?<volume>[^"]+)" : chown\b.*not supported by windows/, 60),
    ],
    explanation:
      'A Windows node cannot change file ownership, but the pod asked for it by setting an fsGroup in its security context; the kubelet then fails to mount the service-account token volume.',
    causes: ['`pod_security_context.fs_group` (or a default fsGroup) is set for pods that run on Windows nodes.'],
    fix: {
      steps: ['Do not set fsGroup for Windows jobs: remove `fs_group` from the pod security context of the Windows runner.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes.pod_security_context]\n  # no fs_group on Windows nodes' },
    },
    configKeys: ['runners.kubernetes.pod_security_context.fs_group', 'runners.kubernetes.node_selector'],
    checks: [],
    examples: [
      String.raw`MountVolume.SetUp failed for volume "kube-api-access-xxxxx" : chown c:\var\lib\kubelet\pods\xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\volumes\kubernetes.io~projected\kube-api-access-xxxxx\..2022_07_07_20_52_19.102630072\token: not supported by windows`,
    ],
    ja: {
      title: 'MountVolume.SetUp failed: chownはWindowsでサポートされない',
      explanation: 'Windowsノードはファイルの所有者を変更できませんが、ポッドがfsGroupを指定しているため、kubeletがサービスアカウントトークンのボリュームをマウントできません。',
      fix: ['Windows用Runnerのポッドセキュリティコンテキストから`fs_group`を削除します。'],
    },
  },
  {
    id: 'build-pods-are-assigned-the-worker-nodes-iam-role-instead-of-runner-iam-role',
    title: "Build pods are assigned the worker node's IAM role instead of Runner IAM role",
    ref: docRef('build-pods-are-assigned-the-worker-nodes-iam-role-instead-of-runner-iam-role'),
    source: 'gitlab-docs',
    symptoms: [sym('assumed-role/', /assumed-role\/(?<role>[\w+=,.@-]+)\/(?<session>i-[0-9a-f]{8,17})\b/, 40)],
    explanation:
      'AWS calls from the job were made with the EC2 instance\'s role (the session name is an instance id) instead of the IAM role meant for the runner\'s jobs, because the node\'s role is not allowed to assume that role.',
    causes: ['The worker node IAM role lacks `sts:AssumeRole` on the runner role\'s trust policy.', 'IRSA is not wired to the job\'s service account.'],
    fix: {
      steps: [
        'Add an `sts:AssumeRole` statement for the worker node role to the trust relationship of the runner role,',
        'or use IRSA: annotate the job service account with the role ARN and set `service_account`.',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  service_account = "ci-jobs"  # annotated with eks.amazonaws.com/role-arn' },
    },
    configKeys: ['runners.kubernetes.service_account'],
    checks: [],
    examples: [
      'An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/eks-nodegroup-workers/i-0a1b2c3d4e5f67890 is not authorized to perform: s3:PutObject',
    ],
    ja: {
      title: 'ビルドポッドにRunnerではなくワーカーノードのIAMロールが割り当てられる',
      explanation: 'ジョブからのAWS呼び出しが、Runner用のIAMロールではなくEC2インスタンスのロールで行われました。ノードのロールがRunnerのロールを引き受けることを許可されていません。',
      fix: ['Runnerロールの信頼関係にワーカーノードロールの`sts:AssumeRole`を追加します。', 'またはIRSAを使い、`service_account`を設定します。'],
    },
  },
  {
    id: 'error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies',
    title: 'Error: pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies',
    ref: docRef('error-pull_policy-always-defined-in-gitlab-pipeline-config-is-not-one-of-the-allowed_pull_policies'),
    source: 'gitlab-docs',
    symptoms: [
      sym(
        'is not one of the allowed_pull_policies',
        /pull_policy \((?<requested>[^)]*)\) defined in (?<source>.+?) is not one of the allowed_pull_policies(?: \((?<allowed>[^)]*)\))?/,
        60,
      ),
    ],
    explanation:
      'The job asks for an image pull policy that the runner does not permit. When `allowed_pull_policies` is empty, only the runner\'s own `pull_policy` is allowed, so any pull policy in .gitlab-ci.yml is refused.',
    causes: ['`image: pull_policy` in .gitlab-ci.yml with no matching `allowed_pull_policies` in config.toml.'],
    fix: {
      steps: ['List the policies jobs may ask for in `allowed_pull_policies`, or drop `pull_policy` from the job.'],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  pull_policy = ["if-not-present"]\n  allowed_pull_policies = ["always", "if-not-present"]' },
    },
    configKeys: ['runners.kubernetes.allowed_pull_policies', 'runners.kubernetes.pull_policy'],
    checks: [],
    examples: [
      "Preparation failed: invalid pull policy for image 'image-name:latest': pull_policy ([Always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([])",
    ],
    ja: {
      title: 'エラー: pull_policyがallowed_pull_policiesに含まれていない',
      explanation: 'ジョブが要求したイメージのプルポリシーはRunnerで許可されていません。`allowed_pull_policies`が空のときは、Runner自身の`pull_policy`だけが許可されます。',
      fix: ['`allowed_pull_policies`にジョブが使うポリシーを追加するか、ジョブから`pull_policy`を外します。'],
    },
  },
  {
    id: 'background-processes-cause-jobs-to-hang-and-timeout',
    title: 'Background processes cause jobs to hang and timeout',
    ref: docRef('background-processes-cause-jobs-to-hang-and-timeout'),
    source: 'gitlab-docs',
    symptoms: [sym('execution took longer than', /execution took longer than (?<timeout>\S+) seconds/, 10)],
    explanation:
      'The script finished but the job kept running until its timeout. A process started in the background still holds the output streams open, so the executor keeps waiting for the shell to end.',
    causes: ['A command started with `&` (a server, a watcher) that keeps stdout/stderr open.'],
    fix: {
      steps: ['Detach background processes from the job\'s output: `cmd < /dev/null &> /dev/null &`,', 'or stop them at the end of the script (for example in `after_script`).'],
      snippet: { lang: 'yaml', text: 'test:\n  script:\n    - ./server < /dev/null &> /dev/null &\n    - ./run-tests' },
    },
    configKeys: [],
    checks: [],
    examples: ['ERROR: Job failed: execution took longer than 1h0m0s seconds'],
    ja: {
      title: 'バックグラウンドプロセスでジョブがハングしタイムアウトする',
      explanation: 'スクリプトは終わったのに、バックグラウンドのプロセスが出力ストリームを開いたままなので、ジョブがタイムアウトまで終わりませんでした。',
      fix: ['`cmd < /dev/null &> /dev/null &`のように出力から切り離すか、スクリプトの最後で停止します。'],
    },
  },
  {
    id: 'cache-related-permission-denied-errors',
    title: 'Cache-related permission denied errors',
    ref: docRef('cache-related-permission-denied-errors'),
    source: 'gitlab-docs',
    symptoms: [sym('permission denied', /[Cc]ach.*?(?<path>\/\S+): permission denied/, 35)],
    explanation:
      'Files restored from or added to the cache keep the owner and mode they had when archived. When the build image and the helper image run as different users, one of them cannot read or overwrite the other\'s files.',
    causes: ['Build container and helper container run with different UIDs.', 'The cache was created by a job that ran as another user.'],
    fix: {
      steps: [
        'Run build and helper with the same user, or give both a common group with an fsGroup.',
        'Alternatively fix permissions in the script before the cache is archived (`chmod -R a+rwX <cache path>`).',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes.pod_security_context]\n  run_as_user = 1000\n  fs_group = 1000' },
    },
    configKeys: ['runners.kubernetes.pod_security_context', 'runners.kubernetes.helper_container_security_context'],
    checks: [],
    examples: ['WARNING: Failed to extract cache: open /builds/group/app/.cache/pip/http/a1/b2: permission denied'],
    ja: {
      title: 'キャッシュ関連のpermission deniedエラー',
      explanation: 'キャッシュのファイルはアーカイブ時の所有者と権限を保ちます。ビルドイメージとヘルパーイメージが別のユーザーで動くと、互いのファイルを読み書きできません。',
      fix: ['ビルドとヘルパーを同じユーザーで動かすか、fsGroupで共通のグループを与えます。'],
    },
  },
  {
    id: 'apparently-redundant-shell-process-in-build-container-with-init-system',
    title: 'Apparently redundant shell process in build container with init system',
    ref: docRef('apparently-redundant-shell-process-in-build-container-with-init-system'),
    source: 'gitlab-docs',
    symptoms: [
      sym('dumb-init -- sh -c if [ -x', /\/(?<init>dumb-init) -- sh -c if \[ -x /, 40),
      sym(' -- sh -c if [ -x', /\/(?<init>tini(?:-init)?) -- sh -c if \[ -x /, 40),
    ],
    explanation:
      'When the build container starts under an init system, the init runs the runner\'s shell-detection script, which starts one extra shell as PID 6 or 7. That shell is expected and is not a leak.',
    causes: ['`FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR` is on, or the image\'s ENTRYPOINT is an init system.'],
    fix: { steps: ['Nothing to fix: the extra shell is part of normal operation with an init system.'] },
    configKeys: ['runners.feature_flags.FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR'],
    checks: [],
    examples: [
      'root     1      0  0 21:58 ?        00:00:00 /scripts-37474587-5556589047/dumb-init -- sh -c if [ -x /usr/local/bin/bash ]; then .exec /usr/local/bin/bash  elif [ -x /usr/bin/bash ]; then .exec /usr/bin/bash  fi',
    ],
    ja: {
      title: 'initシステムを使うビルドコンテナで冗長に見えるシェルプロセス',
      explanation: 'initシステムがRunnerのシェル検出スクリプトを実行するため、PID 6や7のシェルが1つ増えます。これは想定どおりの動作です。',
      fix: ['対処は不要です。'],
    },
  },
  {
    id: 'runner-pod-fails-to-run-job-results-and-times-out-despite-successful-registration',
    title: 'Runner pod fails to run job results and times out despite successful registration',
    ref: docRef('runner-pod-fails-to-run-job-results-and-times-out-despite-successful-registration'),
    source: 'gitlab-docs',
    symptoms: [
      sym('this job does not have a trace', /This job does not have a trace\./, 40),
      sym('the job got stuck', /There has been a timeout failure or the job got stuck/, 40),
      sym('jobs/request', /204 No content response code when connecting to the `?jobs\/request`? API/i, 40),
    ],
    explanation:
      'The runner is registered but never picks up the job: its long-poll requests to `/api/v4/jobs/request` hang or get no job, so the job waits in GitLab until it times out without any log.',
    causes: ['A proxy or load balancer between runner and GitLab holds the TCP connection open without passing responses.', 'The runner cannot reach GitLab reliably.'],
    fix: {
      steps: [
        'Send a POST to `/api/v4/jobs/request` by hand from the runner\'s network and see whether it hangs (`gkr doctor` does this without taking a job).',
        'Fix the proxy/load balancer timeouts or the network path to GitLab.',
      ],
    },
    configKeys: ['runners.url', 'runners.request_concurrency'],
    checks: ['gitlab-job-request'],
    examples: [
      'There has been a timeout failure or the job got stuck. Check your timeout limits or try again.',
      'This job does not have a trace.',
      'HTTP 204 No content response code when connecting to the `jobs/request` API.',
    ],
    ja: {
      title: '登録は成功したのにRunnerポッドがジョブを実行せずタイムアウトする',
      explanation: 'Runnerは登録済みですが、`/api/v4/jobs/request`へのロングポーリングがハングするかジョブを受け取れず、ジョブはログなしでタイムアウトします。',
      fix: ['Runnerのネットワークから`jobs/request`にPOSTし、ハングするか確認します。', 'プロキシやロードバランサーのタイムアウト、ネットワーク経路を修正します。'],
    },
  },
  {
    id: 'failed-to-reserve-container-name-for-init-permissions-container-when-gcs-fuse-csi-driver-is-used',
    title: 'failed to reserve container name for init-permissions container when gcs-fuse-csi-driver is used',
    ref: docRef('failed-to-reserve-container-name-for-init-permissions-container-when-gcs-fuse-csi-driver-is-used'),
    source: 'gitlab-docs',
    symptoms: [sym('failed to reserve container name', /failed to reserve container name "(?<container>[^"]+)"/, 50)],
    explanation:
      'The gcs-fuse CSI driver cannot mount volumes for init containers, so the runner\'s init-permissions container never starts and the runtime keeps trying to create it under the same name.',
    causes: ['A gcs-fuse CSI volume is mounted into the job pod, which has an init container.'],
    fix: {
      steps: ['Avoid gcs-fuse CSI volumes in job pods until the driver supports init containers (native sidecars, Kubernetes 1.28+),', 'or mount the bucket inside the job script instead.'],
    },
    configKeys: ['runners.kubernetes.volumes.csi'],
    checks: [],
    examples: [
      'Error: failed to reserve container name "init-permissions_runner-abc123-project-1-concurrent-0_ci_0b1c2d3e-1111-2222-3333-444455556666_0": name is reserved',
    ],
    ja: {
      title: 'gcs-fuse-csi-driver使用時にinit-permissionsコンテナでfailed to reserve container name',
      explanation: 'gcs-fuse CSIドライバーはinitコンテナへのボリュームのマウントに対応していないため、Runnerのinit-permissionsコンテナが起動できません。',
      fix: ['ジョブポッドでgcs-fuse CSIボリュームを使わないか、スクリプト内でバケットをマウントします。'],
    },
  },
  {
    id: 'error-only-read-only-root-filesystem-container-is-allowed',
    title: 'Error: only read-only root filesystem container is allowed',
    ref: docRef('error-only-read-only-root-filesystem-container-is-allowed'),
    source: 'gitlab-docs',
    symptoms: [sym('read-only root filesystem', /only read-only root filesystem container is allowed/i, 60)],
    explanation:
      'A policy engine (Gatekeeper, Kyverno, or similar) only admits containers whose root filesystem is read-only, and the runner\'s pod (or the job pod) does not set that. Jobs still need writable places for builds, HOME and temporary files.',
    causes: ['An admission policy requires `readOnlyRootFilesystem: true` on every container.'],
    fix: {
      steps: [
        'Set `read_only_root_filesystem = true` for build, helper and service containers.',
        'Give the job writable empty-dir volumes for the builds directory, HOME and /tmp.',
      ],
      snippet: {
        lang: 'toml',
        text: '[runners.kubernetes.build_container_security_context]\n  read_only_root_filesystem = true\n[runners.kubernetes.helper_container_security_context]\n  read_only_root_filesystem = true\n[[runners.kubernetes.volumes.empty_dir]]\n  name = "tmp"\n  mount_path = "/tmp"',
      },
    },
    configKeys: [
      'runners.kubernetes.build_container_security_context.read_only_root_filesystem',
      'runners.kubernetes.helper_container_security_context.read_only_root_filesystem',
      'runners.kubernetes.volumes.empty_dir',
    ],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: admission webhook "validation.gatekeeper.sh" denied the request: [psp-readonlyrootfilesystem] only read-only root filesystem container is allowed: build',
    ],
    ja: {
      title: 'エラー: 読み取り専用ルートファイルシステムのコンテナのみ許可されています',
      explanation: 'GatekeeperやKyvernoなどのポリシーが読み取り専用のルートファイルシステムを持つコンテナだけを許可していますが、ポッドがそれを設定していません。',
      fix: ['ビルド、ヘルパー、サービスのコンテナに`read_only_root_filesystem = true`を設定します。', 'ビルドディレクトリ、HOME、/tmpに書き込み可能なempty_dirボリュームを用意します。'],
    },
  },
  {
    id: 'aws-eks-error-cleaning-up-pod-pods-runner--not-found-or-status-is-failed',
    title: 'AWS EKS: Error cleaning up pod: pods "runner-**" not found or status is "Failed"',
    ref: docRef('aws-eks-error-cleaning-up-pod-pods-runner--not-found-or-status-is-failed'),
    source: 'gitlab-docs',
    symptoms: [
      sym('error cleaning up pod: pods', /Error cleaning up pod: pods "(?<pod>runner-[^"]+)" not found/, 50),
      sym('"failed"', /pod "(?<pod>runner-[^"]+)" status is "Failed"/, 50),
    ],
    explanation:
      'The node running the job pod was removed while the job ran — on EKS usually by availability-zone rebalancing of the auto scaling group — so the pod vanished or failed and its clean-up found nothing.',
    causes: ['AZRebalance in the node group\'s auto scaling group.', 'Spot interruptions or scale-in of nodes with running jobs.'],
    fix: { steps: ['Suspend the AZRebalance process for the node group that runs jobs (`aws autoscaling suspend-processes --scaling-processes AZRebalance`).', 'Keep job pods off nodes that can be scaled in.'] },
    configKeys: ['runners.kubernetes.node_selector'],
    checks: [],
    examples: ['ERROR: Error cleaning up pod: pods "runner-abcd1234-project-42-concurrent-0x9k2m" not found'],
    ja: {
      title: 'AWS EKS: ポッドのクリーンアップエラー（not found / Failed）',
      explanation: 'ジョブ実行中にノードが削除されました。EKSでは多くの場合、オートスケーリンググループのアベイラビリティーゾーン再調整が原因です。',
      fix: ['ジョブ用ノードグループでAZRebalanceを停止します。'],
    },
  },
  {
    id: 'services-not-supported-with-windows-containers',
    title: 'Services not supported with Windows containers',
    ref: docRef('services-not-supported-with-windows-containers'),
    source: 'gitlab-docs',
    symptoms: [sym('windows does not support this field', /spec\.hostAliases: Invalid value: .*Windows does not support this field/, 70)],
    explanation:
      'The executor makes services reachable by adding host aliases to the pod, and Windows containers do not support host aliases. Some platforms (GKE) reject such pods; others silently drop the aliases.',
    causes: ['A job on a Windows node uses `services:`.'],
    fix: { steps: ['Do not use services for Windows jobs; run the dependency elsewhere and reach it by its cluster DNS name.'] },
    configKeys: ['runners.kubernetes.services', 'runners.kubernetes.node_selector'],
    checks: [],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: admission webhook "windows.common-webhooks.networking.gke.io" denied the request: spec.hostAliases: Invalid value: []v1.HostAlias{v1.HostAlias{IP:"127.0.0.1", Hostnames:[]string{"<your windows image>"}}}: Windows does not support this field.',
    ],
    ja: {
      title: 'Windowsコンテナではサービスを使えない',
      explanation: 'executorはサービスへの到達にポッドのホストエイリアスを使いますが、Windowsコンテナはこれに対応していません。',
      fix: ['Windowsジョブではサービスを使わず、依存先をクラスター内の別の場所で動かします。'],
    },
  },
]
