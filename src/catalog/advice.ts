/**
 * Advice built from what the matcher extracted, for the entries where the generic fix is not enough:
 * the exact RBAC rule to add, and the quota figures side by side with what to change. Pure functions
 * of a match's fields, so `gkr explain` (text and JSON) and tests share them.
 */
import { parseQuantity } from '../config/values.js'
import type { CatalogId } from './ids.js'

export type AdviceLang = 'en' | 'ja'

export interface Advice {
  /** Sentences about this occurrence, naming the extracted values. */
  text: string[]
  snippet?: { lang: 'toml' | 'yaml'; text: string }
}

type Fields = Record<string, string>

const ADVISORS: Partial<Record<CatalogId, (f: Fields, lang: AdviceLang) => Advice | undefined>> = {
  'rbac-forbidden': (f, lang) => rbacAdvice(f, lang, 'gitlab-runner-executor'),
  'job-rbac-forbidden': (f, lang) => rbacAdvice(f, lang, 'ci-deployer'),
  'quota-exceeded': quotaAdvice,
  'webhook-denied': labelAdvice,
}

const LABEL = String.raw`[A-Za-z0-9][\w./-]*`
/** How policy engines word a missing label: Gatekeeper's k8srequiredlabels, Kyverno, hand-written webhooks. */
const REQUIRED_LABEL: RegExp[] = [
  new RegExp(String.raw`missing required labels?:?\s*\[?((?:"?${LABEL}"?[,\s]*)+)\]?`, 'i'),
  new RegExp(String.raw`you must provide labels?:?\s*\{((?:"?${LABEL}"?[,\s]*)+)\}`, 'i'),
  new RegExp(String.raw`(?:must (?:carry|have)|requires?) (?:the )?labels? ((?:["'\`]?${LABEL}["'\`]?(?:,\s*|\s+and\s+)?)+)`, 'i'),
  new RegExp(String.raw`labels? ["'\`]?(${LABEL})["'\`]? (?:is|are) required`, 'i'),
]

/** The labels a denial asks for, when it says so plainly. */
export function requiredLabels(reason: string): string[] {
  for (const re of REQUIRED_LABEL) {
    const m = re.exec(reason)
    if (m?.[1]) {
      const labels = m[1].split(/,|\s+and\s+|\s+/).map((l) => l.replace(/["'`]/g, '').trim()).filter((l) => new RegExp(`^${LABEL}$`).test(l))
      if (labels.length > 0) return [...new Set(labels)]
    }
  }
  return []
}

/** A webhook that wants labels on the pod: the [runners.kubernetes.pod_labels] table that adds them. */
function labelAdvice(f: Fields, lang: AdviceLang): Advice | undefined {
  const labels = requiredLabels(f.reason ?? '')
  if (labels.length === 0) return undefined
  const who = f.webhook ? `The webhook "${f.webhook}"` : 'The webhook'
  const toml = ['[runners.kubernetes.pod_labels]', ...labels.map((l) => `  ${JSON.stringify(l)} = "<value>"`)].join('\n')
  const list = labels.join(', ')
  const text = lang === 'ja'
    ? [`${f.webhook ? `Webhook "${f.webhook}"` : 'Webhook'} はジョブのPodにラベル ${list} を求めています。`, 'config.tomlに次の表を追加し、値をポリシーが認めるものにします（値には $CI_PROJECT_NAME などのジョブ変数も使えます）。']
    : [`${who} wants the label${labels.length === 1 ? '' : 's'} ${list} on the job pod.`, 'Add this table to the runner\'s [runners.kubernetes] in config.toml, with a value the policy accepts (job variables such as $CI_PROJECT_NAME are expanded).']
  return { text, snippet: { lang: 'toml', text: toml } }
}

export function adviceFor(id: CatalogId, fields: Fields, lang: AdviceLang = 'en'): Advice | undefined {
  return ADVISORS[id]?.(fields, lang)
}

/** The Role (or ClusterRole) rule the refused call needs, and a binding to the service account named in the message. */
function rbacAdvice(f: Fields, lang: AdviceLang, roleName: string): Advice | undefined {
  if (!f.verb || !f.resource) return undefined
  const cluster = f.scope === 'cluster'
  const ns = f.namespace
  const kind = cluster ? 'ClusterRole' : 'Role'
  const group = f.group ?? ''
  const sa = /^system:serviceaccount:(?<ns>[^:]+):(?<name>.+)$/.exec(f.user ?? '')?.groups
  const meta = ['metadata:', '  name: ' + roleName, ...(!cluster ? [`  namespace: ${ns ?? '<job namespace>'}`] : [])]
  const yaml = ['apiVersion: rbac.authorization.k8s.io/v1', `kind: ${kind}`, ...meta, 'rules:', `  - apiGroups: ["${group}"]`, `    resources: ["${f.resource}"]`, `    verbs: ["${f.verb}"]`]
  if (sa) {
    yaml.push('---', 'apiVersion: rbac.authorization.k8s.io/v1', `kind: ${kind}Binding`, ...meta, 'roleRef:', '  apiGroup: rbac.authorization.k8s.io', `  kind: ${kind}`, '  name: ' + roleName, 'subjects:', '  - kind: ServiceAccount', `    name: ${sa.name}`, `    namespace: ${sa.ns}`)
  }
  const who = f.user ?? (lang === 'ja' ? 'Runnerの認証情報' : "the runner's credentials")
  const where = cluster ? (lang === 'ja' ? 'クラスター全体' : 'at cluster scope') : ns ? (lang === 'ja' ? `名前空間 ${ns}` : `in namespace ${ns}`) : lang === 'ja' ? 'ジョブの名前空間' : 'in the job namespace'
  const res = group ? `${f.resource} (API group ${group})` : f.resource
  const text =
    lang === 'ja'
      ? [`${who} は ${where} で ${res} を ${f.verb} できません。`, `次のルールを追加します（既存の${kind}に追記するか、下のYAMLを \`kubectl apply -f\` で適用します。既にバインド済みならBindingは不要です）。`]
      : [`${who} may not ${f.verb} ${res} ${where}.`, `Add this rule: merge it into the ${kind} already bound to that identity, or apply the YAML below with \`kubectl apply -f\` (skip the binding if one exists).`]
  return { text, snippet: { lang: 'yaml', text: yaml.join('\n') } }
}

const COUNT_RESOURCE = /^(?:count\/|pods$|secrets$|services|configmaps$|persistentvolumeclaims$|replicationcontrollers$|resourcequotas$)/

/** Splits `requests.memory=1Gi,pods=2` into an ordered map. */
function figures(list: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (list ?? '').split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  return out
}

/** Which runner config key sets `resource` (e.g. limits.cpu) for a container of the build pod. */
function configKeyFor(resource: string, container: string): string | undefined {
  const m = /^(?:(limits|requests)\.)?(cpu|memory|ephemeral-storage)$/.exec(resource)
  if (!m) return undefined
  const what = m[2] === 'ephemeral-storage' ? 'ephemeral_storage' : m[2]
  const kind = m[1] === 'requests' ? 'request' : 'limit'
  const prefix = container === 'build' ? '' : container === 'helper' || container === 'init-permissions' ? 'helper_' : 'service_'
  return `${prefix}${what}_${kind}`
}

function quotaAdvice(f: Fields, lang: AdviceLang): Advice | undefined {
  const quota = f.quota?.trim()
  if (!quota) return undefined
  if (f.missing) {
    // "limits.cpu for: build,helper; limits.memory for: build" (newer API servers) or "limits.cpu,limits.memory"
    const keys = new Set<string>()
    for (const part of f.missing.split(';')) {
      const m = /^\s*(?<res>[\w.-]+)(?: for: (?<who>[\w,-]+))?/.exec(part)
      for (const r of (m?.groups?.who ? [m.groups.res!] : part.split(',')).map((s) => s.trim())) {
        for (const c of m?.groups?.who?.split(',') ?? ['build', 'helper', 'svc-0']) {
          const k = configKeyFor(r, c)
          if (k) keys.add(k)
        }
      }
    }
    const text =
      lang === 'ja'
        ? [`クォータ ${quota} は ${f.missing} の指定を要求していますが、ポッドに設定されていません。`, 'Runnerが作るコンテナのrequests/limitsを設定します（値はクォータに収まるように選びます）。']
        : [`Quota ${quota} requires ${f.missing}, and the pod does not set them.`, 'Set them for the containers the runner creates (pick values that fit the quota):']
    if (!keys.size) return { text }
    return { text, snippet: { lang: 'toml', text: ['[runners.kubernetes]', ...[...keys].map((k) => `  ${k} = "<value>"`)].join('\n') } }
  }
  const req = figures(f.requested)
  if (!req.size) return undefined
  const used = figures(f.used)
  const lim = figures(f.limited)
  const text: string[] = []
  let counts = false
  for (const [res, want] of req) {
    const have = used.get(res) ?? '0'
    const max = lim.get(res)
    if (COUNT_RESOURCE.test(res)) counts = true
    const free = max !== undefined ? remaining(have, max) : undefined
    text.push(
      lang === 'ja'
        ? `${res}: 要求 ${want}、使用中 ${have}、上限 ${max ?? '?'}${free !== undefined ? `（残り ${free}）` : ''}。`
        : `${res}: requested ${want}, already used ${have}, limit ${max ?? '?'}${free !== undefined ? ` (${free} left)` : ''}.`,
    )
  }
  if (counts) {
    text.push(
      lang === 'ja'
        ? `オブジェクト数のクォータ ${quota} が満杯です。失敗したジョブが残したRunnerのオブジェクトが原因であることが多いので、\`gkr cleanup\` で確認・削除します。`
        : `Quota ${quota} counts objects and is full: objects left behind by failed jobs are the usual cause. List them with \`gkr cleanup\` and delete them with \`gkr cleanup --yes\`.`,
    )
  } else {
    text.push(
      lang === 'ja'
        ? `クォータ ${quota} に空きがありません。同時実行数（\`concurrent\`）やジョブの要求量を減らすか、クォータを増やします。`
        : `Quota ${quota} has no room for this pod: lower \`concurrent\` or the job's requests, or raise the quota.`,
    )
  }
  return { text }
}

/** `limit - used` as a quantity in the limit's unit, or undefined when either is not a quantity. */
function remaining(used: string, limit: string): string | undefined {
  const u = parseQuantity(used)
  const l = parseQuantity(limit)
  if (!u || !l) return undefined
  const left = Math.max(0, l.value - u.value)
  if (l.format === 'exponent') return `${+left.toFixed(3)}`
  const unit = parseQuantity(`1${l.suffix}`)!.value
  return `${+(left / unit).toFixed(2)}${l.suffix}`
}
