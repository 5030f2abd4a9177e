/**
 * The objects kubectl's typed shortcuts send in protobuf (`kubectl create namespace|configmap|secret|
 * serviceaccount|role|rolebinding|clusterrole|clusterrolebinding`, and through protobuf-workloads.ts
 * `create deployment|job|cronjob`), decoded to the JSON the API server would have stored. Field numbers
 * are those of the Kubernetes types' generated.proto; kinds not listed here stay 415 (their schemas are
 * not modelled).
 */
import { fields, unwrap } from './protobuf.js'
import type { ResourceDef } from './resources.js'
import { badRequest } from './status.js'
import { Unmodelled, decodeWorkload, isWorkloadKind } from './protobuf-workloads.js'

type Fields = ReturnType<typeof fields>

const strs = (f: Fields, n: number): string[] => (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map((b) => b.toString('utf8'))
/** A string field; proto3 cannot tell an empty string from an unset one, and JSON leaves both out. */
const str = (f: Fields, n: number): string | undefined => strs(f, n)[0] || undefined
const bool = (f: Fields, n: number): boolean | undefined => {
  const v = f.get(n)?.[0]
  return typeof v === 'number' ? v !== 0 : undefined
}
const subs = (f: Fields, n: number): Fields[] => (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map((b) => fields(b))

/** A map<string, string|bytes> field: repeated entries of key (1) and value (2). */
function map(f: Fields, n: number, bytes = false): Record<string, string> | undefined {
  const entries = subs(f, n)
  if (entries.length === 0) return undefined
  return Object.fromEntries(entries.map((e) => {
    const v = e.get(2)?.[0]
    const value = Buffer.isBuffer(v) ? (bytes ? v.toString('base64') : v.toString('utf8')) : ''
    return [str(e, 1) ?? '', value]
  }))
}

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

function objectMeta(f: Fields | undefined): Record<string, unknown> {
  if (!f) return {}
  const finalizers = strs(f, 14)
  return defined({ name: str(f, 1), generateName: str(f, 2), namespace: str(f, 3), labels: map(f, 11), annotations: map(f, 12), ...(finalizers.length ? { finalizers } : {}) })
}

/**
 * The object in a protobuf body, as JSON; undefined for a kind this does not decode, or a body that is
 * no envelope; a body of a decoded kind that does not parse is 400, as the API server's decoder says.
 */
export function objectFromProtobuf(def: ResourceDef, body: Buffer): Record<string, unknown> | undefined {
  let kind: string | undefined
  let raw: Fields
  try {
    ;({ kind, raw } = unwrap(body))
  } catch {
    return undefined
  }
  if (kind !== def.kind) return undefined
  const workload = (def.group === 'apps' || def.group === 'batch') && isWorkloadKind(kind)
  if (def.group !== '' && def.group !== RBAC && !workload) return undefined
  try {
    return workload ? decodeWorkload(kind, raw) : def.group === RBAC ? decodeRbac(kind, raw) : decode(kind, raw)
  } catch (err) {
    // A field with a value this does not model: the body is of an unknown format here (415).
    if (err instanceof Unmodelled) return undefined
    throw badRequest('the object provided is unrecognized or could not be decoded')
  }
}

const RBAC = 'rbac.authorization.k8s.io'

/** PolicyRule: verbs 1, apiGroups 2, resources 3, resourceNames 4, nonResourceURLs 5 (rbac/v1 generated.proto). */
function policyRule(f: Fields): Record<string, unknown> {
  const list = (n: number): string[] | undefined => (f.get(n)?.length ? strs(f, n) : undefined)
  return defined({ verbs: strs(f, 1), apiGroups: list(2), resources: list(3), resourceNames: list(4), nonResourceURLs: list(5) })
}

/** Role and ClusterRole (metadata 1, rules 2), RoleBinding and ClusterRoleBinding (metadata 1, subjects 2, roleRef 3). */
function decodeRbac(kind: string, raw: Fields): Record<string, unknown> | undefined {
  const base = { apiVersion: `${RBAC}/v1`, kind, metadata: objectMeta(subs(raw, 1)[0]) }
  switch (kind) {
    case 'Role':
    case 'ClusterRole': {
      const rules = subs(raw, 2).map(policyRule)
      return { ...base, ...(rules.length || kind === 'Role' ? { rules } : {}) }
    }
    case 'RoleBinding':
    case 'ClusterRoleBinding': {
      // Subject: kind 1, apiGroup 2, name 3, namespace 4; RoleRef: apiGroup 1, kind 2, name 3.
      const subjects = subs(raw, 2).map((s) => defined({ kind: str(s, 1), apiGroup: str(s, 2), name: str(s, 3), namespace: str(s, 4) }))
      const ref = subs(raw, 3)[0] ?? new Map()
      return { ...base, ...(subjects.length ? { subjects } : {}), roleRef: { apiGroup: str(ref, 1) ?? '', kind: str(ref, 2) ?? '', name: str(ref, 3) ?? '' } }
    }
    default:
      return undefined
  }
}

function decode(kind: string, raw: Fields): Record<string, unknown> | undefined {
  const metadata = objectMeta(subs(raw, 1)[0])
  const base = { apiVersion: 'v1', kind, metadata }
  switch (kind) {
    case 'Namespace': {
      const finalizers = strs(subs(raw, 2)[0] ?? new Map(), 1)
      return { ...base, ...(finalizers.length ? { spec: { finalizers } } : {}) }
    }
    case 'ConfigMap':
      return { ...base, ...defined({ data: map(raw, 2), binaryData: map(raw, 3, true), immutable: bool(raw, 4) }) }
    case 'Secret':
      return { ...base, ...defined({ data: map(raw, 2, true), type: str(raw, 3), stringData: map(raw, 4), immutable: bool(raw, 5) }) }
    case 'ServiceAccount': {
      const pullSecrets = subs(raw, 3).map((r) => ({ name: str(r, 1) ?? '' }))
      return { ...base, ...defined({ imagePullSecrets: pullSecrets.length ? pullSecrets : undefined, automountServiceAccountToken: bool(raw, 4) }) }
    }
    default:
      return undefined
  }
}
