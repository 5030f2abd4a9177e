import type { Obj, Store } from './store.js'
import { RESOURCES, type ResourceDef } from './resources.js'
import { StatusError, badRequest, forbidden, internalError, invalid } from './status.js'
import { fmt, q } from './quantity.js'
import type { WebhookKnob, PolicyKnob } from './scenario.js'
import { admitPodSecurity, namespaceWarnings, policiesOf } from './pod-security.js'
import type { PodSecurityConfig } from './pod-security-config.js'

const res = (resource: string, group = ''): ResourceDef => RESOURCES.find((r) => r.resource === resource && r.group === group)!

type Container = { name: string; image?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> }; securityContext?: { readOnlyRootFilesystem?: boolean } }
const containersOf = (pod: Obj): Container[] => {
  const spec = (pod.spec ?? {}) as { containers?: Container[]; initContainers?: Container[] }
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])]
}

/** The admission operation: a PATCH is an UPDATE (or a CREATE, when server-side apply creates). */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE'

export interface AdmissionContext {
  store: Store
  def: ResourceDef
  namespace?: string
  obj: Obj
  /** CREATE unless told otherwise. */
  operation?: Operation
  /** The stored object an UPDATE or DELETE replaces. */
  oldObj?: Obj
  /** Set for writes to a subresource (pods/status): only webhooks that name it match. */
  subresource?: string
  /** Texts for the answer's `Warning` headers, collected while admitting. */
  warnings?: string[]
  /** Annotations for the request's audit event (Pod Security's audit mode). */
  auditAnnotations?: Record<string, string>
  dryRun: boolean
  webhooks: Record<string, WebhookKnob>
  policies: PolicyKnob[]
  /** The scenario's PodSecurity admission configuration (defaults, exemptions). */
  podSecurity?: PodSecurityConfig
  /** Who makes the request (after impersonation): PodSecurity exempts usernames. */
  username?: string
  /** Waits as long as a webhook takes (scaled by the scenario clock). */
  sleep: (ms: number) => Promise<void>
}

/**
 * Mutating admission of a CREATE: LimitRange defaults (recorded in the limit-ranger annotation), then
 * the ServiceAccount plugin (a pod runs as `default` unless it names an account, and the account
 * must exist).
 */
export function mutate(ctx: AdmissionContext): void {
  // Defaulting, as the API server does before admission: a Secret without a type is Opaque.
  if (ctx.def.resource === 'secrets' && !(ctx.obj as { type?: string }).type) (ctx.obj as { type?: string }).type = 'Opaque'
  if (ctx.def.resource !== 'pods' || !ctx.namespace) return
  limitRangeDefaults(ctx)
  serviceAccount(ctx)
}

function serviceAccount(ctx: AdmissionContext): void {
  const spec = (ctx.obj.spec ?? {}) as { serviceAccountName?: string; serviceAccount?: string }
  const name = spec.serviceAccountName || spec.serviceAccount || 'default'
  spec.serviceAccountName = name
  spec.serviceAccount = name
  if (!ctx.store.tryGet(res('serviceaccounts'), ctx.namespace, name)) {
    throw forbidden('pods', '', 'pods', ctx.obj.metadata.name ?? ctx.obj.metadata.generateName ?? '', `error looking up service account ${ctx.namespace}/${name}: serviceaccount "${name}" not found`)
  }
}

function limitRangeDefaults(ctx: AdmissionContext): void {
  const ranges = ctx.store.list(res('limitranges'), ctx.namespace)
  const set: string[] = []
  for (const lr of ranges) {
    for (const item of ((lr.spec as { limits?: Array<Record<string, unknown>> })?.limits ?? []).filter((l) => l.type === 'Container')) {
      for (const c of containersOf(ctx.obj)) {
        c.resources ??= {}
        for (const [field, target] of [['default', 'limits'], ['defaultRequest', 'requests']] as const) {
          const d = item[field] as Record<string, string> | undefined
          const applied: string[] = []
          for (const [r, v] of Object.entries(d ?? {})) {
            c.resources[target] ??= {}
            if (c.resources[target]![r] === undefined) {
              c.resources[target]![r] = v
              applied.push(r)
            }
          }
          if (applied.length) set.push(`${applied.join(', ')} ${target === 'limits' ? 'limit' : 'request'} for container ${c.name}`)
        }
      }
    }
  }
  if (set.length) {
    ctx.obj.metadata.annotations = { ...ctx.obj.metadata.annotations, 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${set.join('; ')}` }
  }
}

/**
 * Validating admission: LimitRange, Pod Security, webhooks and policy engines, then ResourceQuota.
 * An UPDATE goes through Pod Security (when it changes what the standards look at) and the webhooks
 * whose rules name UPDATE; a DELETE through the webhooks that name DELETE.
 */
export async function validate(ctx: AdmissionContext): Promise<void> {
  const name = ctx.obj.metadata.name!
  const op = ctx.operation ?? 'CREATE'
  // The API server's order: LimitRanger, PodSecurity, then the webhooks and policies, ResourceQuota last.
  if (op === 'CREATE' && ctx.def.resource === 'pods' && ctx.namespace) limitRanges(ctx, name)
  if (op !== 'DELETE' && !ctx.subresource) podSecurity(ctx, name)
  await webhooks(ctx)
  if (op === 'CREATE' && ctx.namespace) quotas(ctx, name)
}

/** Whether an update changes what Pod Security looks at (the plugin ignores metadata-only updates). */
function significant(ctx: AdmissionContext): boolean {
  if (!ctx.oldObj) return true
  return JSON.stringify(ctx.oldObj.spec ?? null) !== JSON.stringify(ctx.obj.spec ?? null)
}

function podSecurity(ctx: AdmissionContext, name: string): void {
  if (ctx.def.resource === 'namespaces') {
    const labels = ctx.obj.metadata.labels
    const { errors } = policiesOf(labels)
    if (errors.length) throw invalid('Namespace', name, '', errors.map((e) => ({ ...e, reason: 'FieldValueInvalid' })))
    if ((ctx.operation ?? 'CREATE') === 'UPDATE') ctx.warnings?.push(...namespaceWarnings(name, ctx.oldObj?.metadata.labels, labels, ctx.store.list(res('pods'), name), ctx.podSecurity))
    return
  }
  if (!ctx.namespace || (ctx.operation === 'UPDATE' && !significant(ctx))) return
  const ns = ctx.store.tryGet(res('namespaces'), undefined, ctx.namespace)
  const verdict = admitPodSecurity(ns?.metadata.labels, ctx.def.resource, ctx.obj, { config: ctx.podSecurity, namespace: ctx.namespace, username: ctx.username })
  Object.assign(ctx.auditAnnotations ?? {}, verdict.audit)
  if (verdict.forbidden) throw forbidden(ctxQualified(ctx.def), ctx.def.group, ctx.def.resource, name, verdict.forbidden)
  ctx.warnings?.push(...verdict.warnings)
}

function limitRanges(ctx: AdmissionContext, name: string): void {
  const violations: string[] = []
  for (const lr of ctx.store.list(res('limitranges'), ctx.namespace)) {
    for (const item of (lr.spec as { limits?: Array<Record<string, Record<string, string> | string>> })?.limits ?? []) {
      const scope = item.type as string
      const targets: Array<{ requests: Record<string, string>; limits: Record<string, string> }> =
        scope === 'Container' ? containersOf(ctx.obj).map((c) => ({ requests: c.resources?.requests ?? {}, limits: c.resources?.limits ?? {} })) : scope === 'Pod' ? [podTotals(ctx.obj)] : []
      for (const t of targets) {
        for (const [r, min] of Object.entries((item.min as Record<string, string>) ?? {})) {
          if (t.requests[r] === undefined) violations.push(`minimum ${r} usage per ${scope} is ${min}.  No request is specified`)
          else if (q(t.requests[r]) < q(min)) violations.push(`minimum ${r} usage per ${scope} is ${min}, but request is ${t.requests[r]}`)
        }
        for (const [r, max] of Object.entries((item.max as Record<string, string>) ?? {})) {
          if (t.limits[r] === undefined) violations.push(`maximum ${r} usage per ${scope} is ${max}.  No limit is specified`)
          else if (q(t.limits[r]) > q(max)) violations.push(`maximum ${r} usage per ${scope} is ${max}, but limit is ${t.limits[r]}`)
        }
        for (const [r, ratio] of Object.entries((item.maxLimitRequestRatio as Record<string, string>) ?? {})) {
          if (t.limits[r] !== undefined && t.requests[r] !== undefined && q(t.limits[r]) / q(t.requests[r]) > q(ratio)) {
            violations.push(`${r} max limit to request ratio per ${scope} is ${ratio}, but provided ratio is ${(q(t.limits[r]) / q(t.requests[r])).toFixed(6)}`)
          }
        }
      }
    }
  }
  if (violations.length === 1) throw forbidden('pods', '', 'pods', name, violations[0]!)
  if (violations.length > 1) throw forbidden('pods', '', 'pods', name, `[${violations.join(', ')}]`)
}

function podTotals(pod: Obj): { requests: Record<string, string>; limits: Record<string, string> } {
  const spec = (pod.spec ?? {}) as { containers?: Container[] }
  const sum = (kind: 'requests' | 'limits'): Record<string, string> => {
    const out: Record<string, number> = {}
    const like: Record<string, string> = {}
    for (const c of spec.containers ?? []) for (const [r, v] of Object.entries(c.resources?.[kind] ?? {})) {
      out[r] = (out[r] ?? 0) + q(v)
      like[r] = v
    }
    return Object.fromEntries(Object.entries(out).map(([r, v]) => [r, fmt(v, like[r]!, r)]))
  }
  return { requests: sum('requests'), limits: sum('limits') }
}

const COUNT_KEYS: Record<string, string> = { pods: 'pods', secrets: 'secrets', services: 'services', configmaps: 'configmaps', persistentvolumeclaims: 'persistentvolumeclaims' }

/** What one object consumes of each quota key. */
export function quotaUsageOf(def: ResourceDef, obj: Obj): Record<string, { value: number; like: string }> {
  const out: Record<string, { value: number; like: string }> = {}
  const count = COUNT_KEYS[def.resource]
  if (count) out[count] = { value: 1, like: '1' }
  out[`count/${def.resource}${def.group ? `.${def.group}` : ''}`] = { value: 1, like: '1' }
  if (def.resource === 'pods') {
    const t = podTotals(obj)
    for (const [kind, vals] of [['requests', t.requests], ['limits', t.limits]] as const) {
      for (const [r, v] of Object.entries(vals)) {
        out[`${kind}.${r}`] = { value: q(v), like: v }
        if (kind === 'requests') out[r] = { value: q(v), like: v }
      }
    }
    // Init containers count with their maximum.
    for (const init of ((obj.spec as { initContainers?: Container[] })?.initContainers ?? [])) {
      for (const kind of ['requests', 'limits'] as const) for (const [r, v] of Object.entries(init.resources?.[kind] ?? {})) {
        const key = `${kind}.${r}`
        if (!out[key] || q(v) > out[key]!.value) out[key] = { value: q(v), like: v }
      }
    }
  }
  return out
}

function quotas(ctx: AdmissionContext, name: string): void {
  const qs = ctx.store.list(res('resourcequotas'), ctx.namespace)
  if (qs.length === 0) return
  const req = quotaUsageOf(ctx.def, ctx.obj)
  for (const quota of qs) {
    const hard = ((quota.spec as { hard?: Record<string, string> })?.hard ?? {}) as Record<string, string>
    const explicitUsed = ((quota.status as { used?: Record<string, string> })?.used ?? {}) as Record<string, string>
    if (ctx.def.resource === 'pods') {
      const missing: string[] = []
      for (const key of Object.keys(hard).filter((k) => /^(requests|limits)\.(cpu|memory)$|^(cpu|memory)$/.test(k)).sort()) {
        const [kind, r] = key.includes('.') ? key.split('.') : ['requests', key]
        const lacking = containersOf(ctx.obj).filter((c) => c.resources?.[kind as 'requests' | 'limits']?.[r!] === undefined).map((c) => c.name).sort()
        if (lacking.length) missing.push(`${key} for: ${lacking.join(',')}`)
      }
      if (missing.length) throw forbidden('pods', '', 'pods', name, `failed quota: ${quota.metadata.name}: must specify ${missing.join('; ')}`)
    }
    const exceeded: string[] = []
    for (const [key, limit] of Object.entries(hard)) {
      const r = req[key]
      if (!r) continue
      const used = explicitUsed[key] !== undefined ? q(explicitUsed[key]) : computeUsed(ctx.store, ctx.namespace!, key)
      if (used + r.value > q(limit)) exceeded.push(key)
    }
    if (exceeded.length) {
      exceeded.sort()
      const list = (f: (k: string) => string): string => exceeded.map((k) => `${k}=${f(k)}`).join(',')
      const usedOf = (k: string): number => (explicitUsed[k] !== undefined ? q(explicitUsed[k]) : computeUsed(ctx.store, ctx.namespace!, k))
      throw forbidden(ctxQualified(ctx.def), ctx.def.group, ctx.def.resource, name, `exceeded quota: ${quota.metadata.name}, requested: ${list((k) => req[k]!.like)}, used: ${list((k) => fmt(usedOf(k), hard[k]!, k))}, limited: ${list((k) => hard[k]!)}`)
    }
  }
}

const ctxQualified = (def: ResourceDef): string => (def.group ? `${def.resource}.${def.group}` : def.resource)

/** Current usage of a quota key in a namespace, from the objects that exist. */
export function computeUsed(store: Store, namespace: string, key: string): number {
  let total = 0
  for (const def of RESOURCES.filter((r) => r.namespaced)) {
    if (!Object.values(COUNT_KEYS).includes(key) && !key.startsWith('count/') && def.resource !== 'pods') continue
    for (const o of store.list(def, namespace)) {
      if (def.resource === 'pods' && ['Succeeded', 'Failed'].includes(String((o.status as { phase?: string })?.phase))) continue
      total += quotaUsageOf(def, o)[key]?.value ?? 0
    }
  }
  return total
}

function labelsMatch(selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels
    if (e.operator === 'In' && !(has && e.values?.includes(labels[e.key]!))) return false
    if (e.operator === 'NotIn' && has && e.values?.includes(labels[e.key]!)) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  return true
}

async function webhooks(ctx: AdmissionContext): Promise<void> {
  const op = ctx.operation ?? 'CREATE'
  const resource = ctx.subresource ? `${ctx.def.resource}/${ctx.subresource}` : ctx.def.resource
  const nsLabels = ctx.namespace ? (ctx.store.tryGet(res('namespaces'), undefined, ctx.namespace)?.metadata.labels ?? {}) : {}
  const configs = [...ctx.store.list(res('mutatingwebhookconfigurations', 'admissionregistration.k8s.io')), ...ctx.store.list(res('validatingwebhookconfigurations', 'admissionregistration.k8s.io'))]
  for (const cfg of configs) {
    for (const wh of (cfg.webhooks as Array<Record<string, unknown>>) ?? []) {
      const rules = (wh.rules as Array<{ operations?: string[]; apiGroups?: string[]; resources?: string[] }>) ?? []
      const matches = rules.some((r) => (r.operations ?? []).some((o) => o === '*' || o === op) && (r.apiGroups ?? []).some((g) => g === '*' || g === ctx.def.group) && (r.resources ?? []).some((x) => resourceMatches(x, resource)))
      if (!matches) continue
      if (!labelsMatch(wh.namespaceSelector as never, nsLabels)) continue
      // An UPDATE is sent when the old or the new object matches the objectSelector.
      if (!labelsMatch(wh.objectSelector as never, ctx.obj.metadata.labels ?? {}) && !(ctx.oldObj && labelsMatch(wh.objectSelector as never, ctx.oldObj.metadata.labels ?? {}))) continue
      const whName = String(wh.name)
      if (ctx.dryRun && !['None', 'NoneOnDryRun'].includes(String(wh.sideEffects))) throw badRequest(`admission webhook "${whName}" does not support dry run`)
      const knob = ctx.webhooks[whName] ?? { behavior: 'allow' }
      const timeoutSeconds = typeof wh.timeoutSeconds === 'number' ? wh.timeoutSeconds : 10
      const svc = (wh.clientConfig as { service?: { name: string; namespace: string; path?: string } })?.service
      const url = svc ? `https://${svc.name}.${svc.namespace}.svc:443${svc.path ?? ''}?timeout=${timeoutSeconds}s` : String((wh.clientConfig as { url?: string })?.url ?? '')
      const failurePolicy = String(wh.failurePolicy ?? 'Fail')
      // A slow webhook: it answers after delayMs, or times out when that is beyond its timeoutSeconds.
      const slow = knob.delayMs !== undefined && knob.delayMs > 0
      const timesOut = knob.behavior === 'timeout' || (slow && knob.delayMs! >= timeoutSeconds * 1000)
      if (slow && !timesOut) await ctx.sleep(knob.delayMs!)
      if (knob.behavior === 'deny' && !timesOut) {
        const code = knob.code && knob.code >= 400 ? knob.code : 400
        throw new StatusError(code, `admission webhook "${whName}" denied the request: ${knob.message ?? 'denied'}`, knob.reason)
      }
      if (timesOut || knob.behavior === 'unreachable') {
        if (timesOut) await ctx.sleep(timeoutSeconds * 1000)
        if (failurePolicy === 'Ignore') continue
        const why = timesOut ? 'context deadline exceeded' : `dial tcp 10.96.12.34:443: connect: connection refused`
        const cause = `failed calling webhook "${whName}": failed to call webhook: Post "${url}": ${why}`
        throw internalError(cause, cause)
      }
    }
  }
  // The policy engines' knobs model CREATE-time policies.
  if (op === 'CREATE') for (const p of ctx.policies) policy(ctx, p)
}

/** A webhook rule's resource: `*` is every resource (not subresources), `*\/*` everything, `pods/*` every pod subresource. */
function resourceMatches(rule: string, resource: string): boolean {
  if (rule === '*/*' || rule === resource) return true
  const [rr, rs] = rule.split('/')
  const [r, s] = resource.split('/')
  if (rs === undefined) return rr === '*' && s === undefined
  return (rr === '*' || rr === r) && (rs === '*' ? s !== undefined : rs === s)
}

function policy(ctx: AdmissionContext, p: PolicyKnob): void {
  if (ctx.def.resource !== 'pods') return
  const name = ctx.obj.metadata.name!
  if (p.kind === 'readOnlyRootFilesystem') {
    const bad = containersOf(ctx.obj).filter((c) => c.securityContext?.readOnlyRootFilesystem !== true)
    if (bad.length === 0) return
    if (p.engine === 'kyverno') {
      const i = ((ctx.obj.spec as { containers?: Container[] }).containers ?? []).findIndex((c) => bad.includes(c))
      throw new StatusError(400, `admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/${ctx.namespace}/${name} was blocked due to the following policies \n\n${p.name}:\n  validate-readOnlyRootFilesystem: 'validation error: Root filesystem must be read-only. rule validate-readOnlyRootFilesystem failed at path /spec/containers/${Math.max(i, 0)}/securityContext/readOnlyRootFilesystem/'`)
    }
    // Gatekeeper reports one violation per container (app containers, then init containers), a line each.
    const spec = ctx.obj.spec as { containers?: Container[]; initContainers?: Container[] }
    const ordered = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].filter((c) => bad.includes(c))
    throw new StatusError(403, `admission webhook "validation.gatekeeper.sh" denied the request: ${ordered.map((c) => `[${p.name}] only read-only root filesystem container is allowed: ${c.name}`).join('\n')}`, 'Forbidden')
  }
  if (p.kind === 'windowsHostAliases') {
    const spec = ctx.obj.spec as { nodeSelector?: Record<string, string>; hostAliases?: unknown[] }
    if (spec.nodeSelector?.['kubernetes.io/os'] === 'windows' && spec.hostAliases?.length) {
      throw new StatusError(400, `admission webhook "windows.common-webhooks.networking.gke.io" denied the request: spec.hostAliases: Invalid value: ${JSON.stringify(spec.hostAliases)}: Windows does not support this field.`)
    }
  }
}
