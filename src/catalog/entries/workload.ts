/**
 * Entries explain v2 needs to tell apart failures that look alike: a refusal of the job's own tools
 * (not the executor's), the admission controllers that reject pods on their own terms (Pod Security
 * Admission, OpenShift SCC), the two kinds of eviction, and the kubelet port the API server itself
 * dials for exec, attach and logs. Patterns follow the exact strings of the API server, the kubelet,
 * kubectl and helm; the explanations are our own wording.
 */
import type { CatalogEntry } from '../types.js'
import { ownRef, sym } from './helpers.js'

/** `cannot VERB resource "R" in API group "G"` (1.12+) or the older `cannot VERB R` (R may carry `.group` or `/subresource`). */
export const RBAC_CANNOT = String.raw`User "(?<user>[^"]+)" cannot (?<verb>\w+) (?:resource "(?<resource>[^"]+)" in API group "(?<group>[^"]*)"|(?<oldResource>[\w.\/-]+))(?: in the namespace "(?<namespace>[^"]+)"| at the (?<scope>cluster) scope)?`

export const workloadEntries: CatalogEntry[] = [
  {
    id: 'job-rbac-forbidden',
    title: "A command in the job script was refused by RBAC (the job's identity, not the executor's)",
    ref: ownRef('job-rbac-forbidden'),
    source: 'gkr',
    symptoms: [
      sym('error from server (forbidden)', new RegExp(String.raw`Error from server \(Forbidden\):(?:.*? is forbidden:)? ${RBAC_CANNOT}`), 55),
      sym('is forbidden: user', new RegExp(String.raw`Error: (?:UPGRADE FAILED|INSTALLATION FAILED|query: failed to query with labels|server-side apply failed|release \S+ failed)\b.*? is forbidden: ${RBAC_CANNOT}`), 55),
      // kubectl apply reads the live object first; a refused read is printed without the subject when the
      // line with the API server's message is cut (it follows after "Resource:", "Name:" lines).
      sym('error when retrieving current configuration', /Error from server \(Forbidden\): error when retrieving current configuration of\b/, 45),
    ],
    explanation:
      'The refusal was printed by a tool the job itself runs (kubectl, helm, terraform, a deploy script) and names the identity that tool uses: the job pod\'s service account or a token from the job\'s kubeconfig. The runner created the pod without trouble; what lacks permissions is the identity the job deploys with, in the namespace it deploys to.',
    causes: [
      'Job pods run as the namespace\'s `default` service account, which has no Role.',
      'The deploy target is another namespace than the one the job pod runs in, and the Role was only granted in the job namespace.',
      'The tool touches cluster-scoped resources (namespaces, CRDs, ClusterRoles), which need a ClusterRole, not a Role.',
    ],
    fix: {
      steps: [
        'Run the deploy jobs under a dedicated service account: set `service_account` (or let jobs pick one with KUBERNETES_SERVICE_ACCOUNT_OVERWRITE and `service_account_overwrite_allowed`).',
        'Bind a Role in the target namespace that grants exactly the verbs and resources the tool reported (a ClusterRole for cluster-scoped resources).',
        'Do not widen the runner manager\'s own Role for this: the executor\'s permissions are a different identity.',
      ],
      snippet: {
        lang: 'toml',
        text: '[runners.kubernetes]\n  service_account = "deployer"\n  service_account_overwrite_allowed = "^deployer-[a-z]+$"',
      },
    },
    configKeys: ['runners.kubernetes.service_account', 'runners.kubernetes.service_account_overwrite_allowed'],
    checks: [],
    examples: [
      'Error from server (Forbidden): deployments.apps "web" is forbidden: User "system:serviceaccount:ci:default" cannot get resource "deployments" in API group "apps" in the namespace "production"',
      'Error: UPGRADE FAILED: could not get information about the resource: persistentvolumeclaims "data" is forbidden: User "system:serviceaccount:ci:deployer" cannot get resource "persistentvolumeclaims" in API group "" in the namespace "staging"',
    ],
    ja: {
      title: 'ジョブのスクリプト内のコマンドがRBACで拒否された（executorではなくジョブのID）',
      explanation: '拒否を出力したのはジョブ自身が実行するツール（kubectl、helm、terraformなど）で、そのツールが使うID（ジョブポッドのサービスアカウントやkubeconfigのトークン）が対象です。Runnerのポッド作成は成功しており、権限が足りないのはデプロイに使うIDです。',
      fix: ['デプロイ用ジョブを専用のサービスアカウントで動かします（`service_account`、または`service_account_overwrite_allowed`で許可したKUBERNETES_SERVICE_ACCOUNT_OVERWRITE）。', 'デプロイ先の名前空間で、報告された動詞とリソースだけを許可するRoleをバインドします（クラスター全体のリソースにはClusterRole）。', 'Runnerマネージャー自身のRoleは広げません。別のIDです。'],
    },
  },
  {
    id: 'pod-security-admission',
    title: 'Pod Security Admission rejected the pod (violates PodSecurity)',
    ref: ownRef('pod-security-admission'),
    source: 'gkr',
    symptoms: [sym('violates podsecurity', /(?<!would )violates PodSecurity "(?<level>[\w-]+):(?<version>[\w.]+)": (?<violations>.+)/, 60)],
    explanation:
      'The namespace carries a `pod-security.kubernetes.io/enforce` label (baseline or restricted) and the API server\'s built-in Pod Security Admission refused the pod because its spec breaks that level: a privileged container (typically docker:dind), privilege escalation, root, added capabilities, host paths or no seccomp profile. Lines saying "would violate" are only warnings or audit notes; they did not block anything.',
    causes: [
      'The runner does not set the security contexts the restricted level requires (allowPrivilegeEscalation=false, capabilities drop ALL, runAsNonRoot, seccomp RuntimeDefault).',
      'A privileged service (docker:dind) in a namespace that enforces baseline or restricted.',
    ],
    fix: {
      steps: [
        'Read the listed violations: each names the container and the field to set.',
        'Set them for the build, helper and service containers in config.toml (below); the build image must then run as a non-root user.',
        'If jobs really need privileged containers, run them in a namespace whose enforce label allows it (an administrator decision), or switch to rootless builders (buildah, kaniko).',
      ],
      snippet: {
        lang: 'toml',
        text: '[runners.kubernetes]\n  allow_privilege_escalation = false\n  [runners.kubernetes.pod_security_context]\n    run_as_non_root = true\n    run_as_user = 1000\n  [runners.kubernetes.build_container_security_context.capabilities]\n    drop = ["ALL"]\n  [runners.kubernetes.helper_container_security_context.capabilities]\n    drop = ["ALL"]',
      },
    },
    configKeys: ['runners.kubernetes.pod_security_context', 'runners.kubernetes.build_container_security_context', 'runners.kubernetes.helper_container_security_context', 'runners.kubernetes.allow_privilege_escalation', 'runners.kubernetes.privileged'],
    checks: ['cluster-pod-security'],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (containers "build", "helper" must set securityContext.allowPrivilegeEscalation=false)',
    ],
    ja: {
      title: 'Pod Security Admissionがポッドを拒否した（violates PodSecurity）',
      explanation: '名前空間に`pod-security.kubernetes.io/enforce`ラベル（baselineまたはrestricted）があり、ポッドの仕様がそのレベルに違反したため、APIサーバー組み込みのPod Security Admissionが拒否しました。「would violate」は警告や監査の記録で、拒否ではありません。',
      fix: ['列挙された違反を読み、各コンテナに必要なフィールドを確認します。', 'config.tomlでビルド・ヘルパー・サービスのセキュリティコンテキストを設定します。', '特権コンテナが本当に必要なら、許可された名前空間で実行するか、ルートレスのビルダーに切り替えます。'],
    },
  },
  {
    id: 'openshift-scc',
    title: 'OpenShift found no security context constraint that allows the pod',
    ref: ownRef('openshift-scc'),
    source: 'gkr',
    symptoms: [sym('security context constraint', /unable to validate against any security context constraint(?:: \[(?<reasons>.*))?/, 60)],
    explanation:
      'On OpenShift every pod must be admitted by a SecurityContextConstraints (SCC) its service account may use. None of them allowed this pod: most often it pins a runAsUser or fsGroup outside the UID range OpenShift assigns to the namespace, asks for privileged mode or host paths, or the SCCs that would allow it are "not usable by user or serviceaccount".',
    causes: [
      'The pod (or the image\'s chart) sets runAsUser/fsGroup values outside the namespace\'s range (restricted-v2).',
      'Privileged containers or hostPath volumes, which only the privileged SCC allows.',
      'The job\'s service account was never granted a more permissive SCC.',
    ],
    fix: {
      steps: [
        'Remove fixed runAsUser/fsGroup values so OpenShift assigns them, and build images that run under an arbitrary UID.',
        'If a wider SCC is justified, grant it to the service account jobs run as: `oc adm policy add-scc-to-user nonroot-v2 -z <service-account> -n <namespace>`.',
        'Avoid privileged dind on OpenShift; use buildah or kaniko.',
      ],
    },
    configKeys: ['runners.kubernetes.service_account', 'runners.kubernetes.pod_security_context', 'runners.kubernetes.privileged'],
    checks: ['cluster-pod-security'],
    examples: [
      'ERROR: Job failed (system failure): pods "runner-abc-project-1-concurrent-0" is forbidden: unable to validate against any security context constraint: [provider "anyuid": Forbidden: not usable by user or serviceaccount, provider restricted-v2: .containers[0].privileged: Invalid value: true: Privileged containers are not allowed]',
    ],
    ja: {
      title: 'OpenShiftでポッドを許可するSecurityContextConstraintsがない',
      explanation: 'OpenShiftでは、サービスアカウントが使えるSCCのいずれかにポッドが許可される必要があります。名前空間のUID範囲外のrunAsUserやfsGroup、特権モード、hostPathを要求しているか、許可できるSCCがそのサービスアカウントに付与されていません。',
      fix: ['固定のrunAsUser/fsGroupを外し、任意のUIDで動くイメージにします。', '必要ならジョブのサービスアカウントにSCCを付与します（`oc adm policy add-scc-to-user nonroot-v2 -z <SA>`）。', 'OpenShiftでは特権dindを避け、buildahやkanikoを使います。'],
    },
  },
  {
    id: 'node-pressure-eviction',
    title: 'The kubelet evicted the pod because the node ran short of a resource',
    ref: ownRef('node-pressure-eviction'),
    source: 'gkr',
    symptoms: [
      sym('the node was low on resource', /The node was low on resource: (?<resource>[\w-]+)\./, 60),
      sym('the node had condition', /The node had condition: \[(?<condition>\w+)\]/, 55),
    ],
    explanation:
      'The node ran short of memory, ephemeral storage (disk) or PIDs and its kubelet evicted pods to recover, starting with those using the most beyond their requests. A build pod that requests no ephemeral storage (dind layers, caches and artifacts all land on the node\'s disk) is a typical first victim; its containers die with exit code 137 although nothing was OOM-killed.',
    causes: [
      'No ephemeral-storage (or memory) requests on the build, helper or service containers, so the pod is ranked first for eviction.',
      'Small node disks, or images and build caches filling them.',
      'Too many jobs packed on one node.',
    ],
    fix: {
      steps: [
        'Set requests for what jobs really use, so the scheduler places them on nodes with room and the kubelet does not pick them first.',
        'Give CI nodes larger disks (or a dedicated node pool), and prune images and caches on them.',
        'Move dind\'s /var/lib/docker to a sized emptyDir or a volume.',
      ],
      snippet: { lang: 'toml', text: '[runners.kubernetes]\n  ephemeral_storage_request = "10Gi"\n  ephemeral_storage_limit = "20Gi"\n  memory_request = "2Gi"' },
    },
    configKeys: ['runners.kubernetes.ephemeral_storage_request', 'runners.kubernetes.ephemeral_storage_limit', 'runners.kubernetes.memory_request', 'runners.kubernetes.service_ephemeral_storage_request'],
    checks: [],
    examples: [
      'WARNING: Event retrieved from the cluster: The node was low on resource: ephemeral-storage. Container build was using 15Gi, which exceeds its request of 0.',
      'Message:        The node was low on resource: memory. Threshold quantity: 100Mi, available: 92Mi. Container build was using 3512Mi, request is 1Gi, has larger consumption of memory.',
    ],
    ja: {
      title: 'ノードのリソース不足でkubeletがポッドを退避させた',
      explanation: 'ノードのメモリ・エフェメラルストレージ（ディスク）・PIDが不足し、kubeletが要求量を最も超えて使っているポッドから退避させました。エフェメラルストレージを要求しないビルドポッド（dindのレイヤーやキャッシュはノードのディスクに置かれます）が最初に狙われがちで、OOMでなくても終了コード137になります。',
      fix: ['実際の使用量に見合うrequestsを設定します。', 'CI用ノードのディスクを大きくし（専用ノードプール）、イメージやキャッシュを整理します。', 'dindの/var/lib/dockerをサイズ指定のemptyDirやボリュームに置きます。'],
    },
  },
  {
    id: 'disruption-eviction',
    title: 'The pod was evicted on purpose (autoscaler drain, consolidation, preemption, taint)',
    ref: ownRef('disruption-eviction'),
    source: 'gkr',
    symptoms: [
      sym('is disrupted: reason', /is disrupted: reason "(?<reason>\w+)"(?:, message "(?<message>[^"]*)")?/, 60),
      sym('evictionbyevictionapi', /\b(?<reason>EvictionByEvictionAPI)\b/, 50),
      sym('preemptionbykubescheduler', /\b(?<reason>PreemptionByKubeScheduler)\b/, 50),
      sym('deletionbytaintmanager', /\b(?<reason>DeletionByTaintManager)\b/, 50),
    ],
    explanation:
      'Nothing failed inside the job: something deliberately removed the running build pod. The Eviction API is what the cluster autoscaler, Karpenter consolidation and node upgrades (kubectl drain) use; preemption makes room for a higher-priority pod; the taint manager deletes pods from nodes tainted NoExecute (for example spot interruption handlers).',
    causes: [
      'A node autoscaler scaled the node down or consolidated it while a job ran.',
      'A node upgrade or drain.',
      'Preemption by higher-priority pods, or a NoExecute taint (spot instance reclaim).',
    ],
    fix: {
      steps: [
        'Mark job pods as not evictable: pod annotations `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` and `karpenter.sh/do-not-disrupt: "true"`.',
        'Give job pods a PriorityClass high enough not to be preempted, and avoid spot nodes for long jobs.',
        'Let GitLab retry such jobs: `retry: {when: [runner_system_failure]}` in .gitlab-ci.yml.',
      ],
      snippet: {
        lang: 'toml',
        text: '[runners.kubernetes]\n  priority_class_name = "ci-jobs"\n  [runners.kubernetes.pod_annotations]\n    "cluster-autoscaler.kubernetes.io/safe-to-evict" = "false"\n    "karpenter.sh/do-not-disrupt" = "true"',
      },
    },
    configKeys: ['runners.kubernetes.pod_annotations', 'runners.kubernetes.priority_class_name'],
    checks: [],
    examples: ['ERROR: Job failed (system failure): pod "gitlab-runner/runner-abc-project-1-concurrent-0" is disrupted: reason "EvictionByEvictionAPI", message "Eviction API: evicting"'],
    ja: {
      title: 'ポッドが意図的に退避された（オートスケーラー、統合、プリエンプション、taint）',
      explanation: 'ジョブ内で失敗したのではなく、何かが実行中のビルドポッドを意図的に削除しました。Eviction APIはクラスターオートスケーラー、Karpenterの統合、ノードのアップグレード（kubectl drain）が使います。プリエンプションは優先度の高いポッドのため、taint managerはNoExecuteのtaintが付いたノードからポッドを削除します。',
      fix: ['ジョブポッドに`cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`と`karpenter.sh/do-not-disrupt: "true"`のアノテーションを付けます。', '十分な優先度のPriorityClassを付け、長いジョブにはスポットノードを避けます。', '.gitlab-ci.ymlで`retry: {when: [runner_system_failure]}`を設定します。'],
    },
  },
  {
    id: 'kubelet-unreachable',
    title: "The API server could not reach the node's kubelet (port 10250: exec, attach, logs)",
    ref: ownRef('kubelet-unreachable'),
    source: 'gkr',
    symptoms: [
      sym(':10250', /dial tcp (?<address>[\w.[\]:-]+?):10250:? (?<error>[^"]+)/, 55),
      sym(':10250/', /https:\/\/(?<address>[\w.[\]:-]+?):10250\/(?<path>containerLogs|exec|attach|portForward)\S*: (?<error>.+)/, 55),
      sym('error dialing backend', /error dialing backend: (?<error>.+)/, 50),
    ],
    explanation:
      'The Kubernetes API server itself answered; what failed is the connection it opens to the kubelet on the pod\'s node (port 10250) to attach, exec or stream logs. Ordinary API calls keep working, so this is not an API server outage: the path from the control plane to that node is blocked, the kubelet is down, or its serving certificate is not ready yet (new autoscaled nodes).',
    causes: [
      'A firewall or security group blocks the control plane from the nodes on TCP 10250.',
      'The kubelet on that node is restarting or unhealthy.',
      'A freshly joined node whose kubelet serving certificate (CSR) is not approved yet.',
    ],
    fix: {
      steps: [
        'Allow TCP 10250 from the control plane to the worker nodes (and the konnectivity/tunnel agent on managed clusters).',
        'Check the node: `kubectl get node <node>` and the kubelet\'s own logs; approve pending kubelet-serving CSRs (`kubectl get csr`).',
        'If it only hits new autoscaled nodes, retry the job or upgrade the runner (it waits for pods to become attachable).',
      ],
    },
    configKeys: ['runners.kubernetes.poll_timeout'],
    checks: [],
    examples: [
      'Error from server: error dialing backend: dial tcp 10.0.3.17:10250: connect: connection refused',
      'ERROR: Job failed (system failure): prepare environment: unable to upgrade connection: error dialing backend: dial tcp 10.0.3.17:10250: i/o timeout',
    ],
    ja: {
      title: 'APIサーバーがノードのkubelet（ポート10250：exec、attach、ログ）に到達できない',
      explanation: 'APIサーバー自体は応答しています。失敗したのは、attach・exec・ログ取得のためにAPIサーバーがポッドのノードのkubelet（ポート10250）へ張る接続です。通常のAPI呼び出しは動くのでAPIサーバーの障害ではなく、コントロールプレーンからノードへの経路、kubeletの状態、またはサービング証明書が原因です。',
      fix: ['コントロールプレーンからワーカーノードへのTCP 10250を許可します。', 'ノードとkubeletの状態を確認し、保留中のkubelet-serving CSRを承認します。', '新しいノードでだけ起きる場合はジョブを再試行するかRunnerを更新します。'],
    },
  },
  {
    id: 'pod-security-policy',
    title: 'No PodSecurityPolicy admits the pod (clusters before Kubernetes 1.25)',
    ref: ownRef('pod-security-policy'),
    source: 'gkr',
    symptoms: [
      sym('unable to validate against any pod security policy', /unable to validate against any pod security policy: \[(?<violations>.*?)\]?"?$/, 60),
      sym('podsecuritypolicy: unable to admit pod', /PodSecurityPolicy: unable to admit pod: \[(?<violations>.*?)\]?"?$/, 60),
      // The PodSecurityPolicy admission plugin is on but no policy exists (or none is usable at all).
      sym('no providers available to validate pod request', /no providers available to validate pod request/, 55),
    ],
    explanation:
      'The cluster runs the PodSecurityPolicy admission plugin (removed in Kubernetes 1.25). A pod is admitted only if some PodSecurityPolicy allows its spec and the pod\'s creator or its service account may `use` that policy. None did: either no policy permits what the pod asks for (privileged dind, root, host paths, a fsGroup or runAsUser outside the allowed ranges), or the runner\'s and job\'s service accounts were never granted `use` on one. An empty list `[]` means no policy was usable at all.',
    causes: [
      'The service account the pods are created with has no Role/ClusterRole granting `use` on any PodSecurityPolicy (for controllers, the ReplicaSet or Job controller\'s account, not the user\'s).',
      'Every usable policy forbids something the pod needs: privileged mode (docker:dind), running as root, hostPath, or an id outside its ranges.',
    ],
    fix: {
      steps: [
        'Read the violations between the brackets: each names the field a policy refused.',
        'Grant the runner\'s and the job pods\' service accounts `use` on a policy that fits (Role below, bound in the job namespace), or change the pod to fit a stricter policy.',
        'On Kubernetes 1.25 or later PodSecurityPolicy is gone: migrate to Pod Security Admission labels.',
      ],
      snippet: {
        lang: 'yaml',
        text: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: ci-psp\n  namespace: ci\nrules:\n  - apiGroups: ["policy"]\n    resources: ["podsecuritypolicies"]\n    resourceNames: ["ci-restricted"]\n    verbs: ["use"]',
      },
    },
    configKeys: ['runners.kubernetes.service_account', 'runners.kubernetes.privileged', 'runners.kubernetes.pod_security_context'],
    checks: ['cluster-pod-security'],
    examples: [
      'ERROR: Job failed (system failure): prepare environment: setting up build pod: pods "runner-abc-project-1-concurrent-0" is forbidden: unable to validate against any pod security policy: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]',
      'pods "runner-abc-project-1-concurrent-0" is forbidden: PodSecurityPolicy: unable to admit pod: [spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used]',
    ],
    ja: {
      title: 'ポッドを許可するPodSecurityPolicyがない（Kubernetes 1.25より前のクラスター）',
      explanation: 'クラスターでPodSecurityPolicyのアドミッションプラグインが有効です。ポッドの仕様を許可し、かつ作成者かサービスアカウントが`use`できるポリシーがありませんでした。`[]`は使えるポリシーが一つもないことを意味します。',
      fix: ['括弧内の違反を読み、拒否されたフィールドを確認します。', 'RunnerとジョブのサービスアカウントにPodSecurityPolicyの`use`を許可するか、ポッドをより厳しいポリシーに合わせます。', '1.25以降はPodSecurityPolicyがないため、Pod Security Admissionのラベルへ移行します。'],
    },
  },
]
