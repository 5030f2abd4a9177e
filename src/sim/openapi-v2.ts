/**
 * `/openapi/v2`: the Swagger 2.0 document of the kinds the simulator serves, generated from the model
 * classes of @kubernetes/client-node (their `attributeTypeMap`: field name, TypeScript type, format),
 * not written by hand. kubectl asks for it only as protobuf (gnostic's `openapi.v2.Document`,
 * `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) and uses it to validate what it cannot
 * hand to server-side field validation, such as the items of a `v1 List`; other clients get JSON.
 * Definitions are named as the API server names them (`io.k8s.api.core.v1.Pod`,
 * `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); a nested type takes the API package of the first
 * served kind that reaches it (core kinds first), which is right for the types the runner's kinds use.
 */
import * as models from '@kubernetes/client-node'
import { RESOURCES, type ResourceDef } from './resources.js'

/**
 * What kubectl asks for, and what the API server (kube-openapi's handler) answers with: the same type
 * with `.v1.0`, since `@` is no token character and Go's mime parser refuses it.
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'
export const OPENAPI_V2_PROTOBUF_REPLY = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'

/** The API server answers protobuf when the Accept header names a protobuf type and not JSON. */
export const wantsProtobufV2 = (accept: string): boolean => accept.includes('protobuf') && !accept.includes('application/json')

interface Attribute { name: string; baseName: string; type: string; format: string }
interface Model { getAttributeTypeMap(): Attribute[] }
export interface SwaggerSchema {
  $ref?: string
  type?: string
  format?: string
  items?: SwaggerSchema
  additionalProperties?: SwaggerSchema
  properties?: Record<string, SwaggerSchema>
  'x-kubernetes-group-version-kind'?: Array<{ group: string; kind: string; version: string }>
}

const META = new Set(['ObjectMeta', 'ListMeta', 'ManagedFieldsEntry', 'OwnerReference', 'LabelSelector', 'LabelSelectorRequirement', 'Condition', 'Status', 'StatusDetails', 'StatusCause', 'DeleteOptions', 'Preconditions'])

function modelOf(className: string): Model | undefined {
  const m = (models as unknown as Record<string, unknown>)[className]
  return typeof m === 'function' && typeof (m as Partial<Model>).getAttributeTypeMap === 'function' ? (m as unknown as Model) : undefined
}

/** client-node's class for a served kind: `V1Pod`, `CoreV1Event`, `EventsV1Event`. */
export function modelClass(r: ResourceDef): string {
  if (r.kind === 'Event') return r.group === 'events.k8s.io' ? 'EventsV1Event' : 'CoreV1Event'
  return `${r.version.charAt(0).toUpperCase()}${r.version.slice(1)}${r.kind}`
}

/** `V1beta1Foo` → [v1beta1, Foo]; `CoreV1Event` → [v1, Event]. */
function splitClass(className: string): [string, string] {
  const m = /^(?:Core|Events|Admissionregistration|Apiextensions|Apiregistration|Authentication|Discovery|Flowcontrol|Rbac|Storage|Resource|Storagemigration)?(V\d+(?:(?:alpha|beta)\d+)?)(.+)$/.exec(className)
  return m ? [m[1]!.toLowerCase(), m[2]!] : ['v1', className]
}

/** The API package of a group, as Go names it: `` → core, `rbac.authorization.k8s.io` → rbac. */
const packageOf = (group: string): string => (group === '' ? 'core' : group.split('.')[0]!)

export function buildDefinitions(resources: readonly ResourceDef[] = RESOURCES): Record<string, SwaggerSchema> {
  const defs: Record<string, SwaggerSchema> = {}
  const names = new Map<string, string>()
  const queue: Array<[string, string]> = []
  const nameOf = (className: string, pkg: string): string => {
    const known = names.get(className)
    if (known) return known
    const [version, kind] = splitClass(className)
    const name = META.has(kind) && version === 'v1' ? `io.k8s.apimachinery.pkg.apis.meta.v1.${kind}` : `io.k8s.api.${pkg}.${version}.${kind}`
    names.set(className, name)
    queue.push([className, pkg])
    return name
  }
  const schemaOf = (type: string, format: string, pkg: string): SwaggerSchema => {
    const t = type.trim()
    const arr = /^Array<(.+)>$/.exec(t)
    if (arr) return { type: 'array', items: schemaOf(arr[1]!, format, pkg) }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(t)
    if (map) return { type: 'object', additionalProperties: schemaOf(map[1]!, format, pkg) }
    if (t === 'string') return format ? { type: 'string', format } : { type: 'string' }
    if (t === 'boolean') return { type: 'boolean' }
    if (t === 'number') return format === 'int32' || format === 'int64' ? { type: 'integer', format } : { type: 'number', format: format || 'double' }
    if (t === 'Date') return { type: 'string', format: 'date-time' }
    if (t === 'IntOrString') return { type: 'string', format: 'int-or-string' }
    if (t === 'any' || !modelOf(t)) return {}
    return { $ref: `#/definitions/${nameOf(t, pkg)}` }
  }
  const ordered = [...resources].sort((a, b) => Number(a.group !== '') - Number(b.group !== ''))
  const gvk = new Map<string, ResourceDef>()
  for (const r of ordered) {
    const cls = modelClass(r)
    if (!modelOf(cls)) continue
    gvk.set(nameOf(cls, packageOf(r.group)), r)
    // The pod template of workloads is a core type, as in the API server's document.
    if (r.group === '' && r.kind === 'Pod') nameOf('V1PodTemplateSpec', 'core')
  }
  for (let i = 0; i < queue.length; i++) {
    const [cls, pkg] = queue[i]!
    const name = names.get(cls)!
    const properties = Object.fromEntries(modelOf(cls)!.getAttributeTypeMap().map((a) => [a.baseName, schemaOf(a.type, a.format, pkg)]))
    const r = gvk.get(name)
    defs[name] = { type: 'object', properties, ...(r ? { 'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }] } : {}) }
  }
  return Object.fromEntries(Object.entries(defs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export function openApiV2Json(version: string): Record<string, unknown> {
  return { swagger: '2.0', info: { title: 'Kubernetes', version }, paths: {}, definitions: buildDefinitions() }
}

// --- protobuf (gnostic openapiv2/OpenAPIv2.proto field numbers) ---

function varint(n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Buffer.from(out)
}
const bytes = (field: number, b: Buffer): Buffer => Buffer.concat([varint(field * 8 + 2), varint(b.length), b])
const str = (field: number, s: string): Buffer => bytes(field, Buffer.from(s, 'utf8'))

function yamlOfGvks(gvks: Array<{ group: string; kind: string; version: string }>): string {
  return gvks.map((g) => `- group: ${JSON.stringify(g.group)}\n  kind: ${g.kind}\n  version: ${g.version}\n`).join('')
}

function encodeSchema(s: SwaggerSchema): Buffer {
  const parts: Buffer[] = []
  if (s.$ref) parts.push(str(1, s.$ref))
  if (s.format) parts.push(str(2, s.format))
  if (s.additionalProperties) parts.push(bytes(21, bytes(1, encodeSchema(s.additionalProperties))))
  if (s.type) parts.push(bytes(22, str(1, s.type)))
  if (s.items) parts.push(bytes(23, bytes(1, encodeSchema(s.items))))
  if (s.properties) parts.push(bytes(25, Buffer.concat(Object.entries(s.properties).map(([k, v]) => bytes(1, Buffer.concat([str(1, k), bytes(2, encodeSchema(v))]))))))
  const gvks = s['x-kubernetes-group-version-kind']
  if (gvks) parts.push(bytes(31, Buffer.concat([str(1, 'x-kubernetes-group-version-kind'), bytes(2, str(2, yamlOfGvks(gvks)))])))
  return Buffer.concat(parts)
}

let cached: Buffer | undefined
/** The document as gnostic's `openapi.v2.Document` protobuf message (built once: it never changes). */
export function openApiV2Protobuf(version: string): Buffer {
  if (cached) return cached
  const defs = buildDefinitions()
  cached = Buffer.concat([
    str(1, '2.0'),
    bytes(2, Buffer.concat([str(1, 'Kubernetes'), str(2, version)])),
    bytes(8, Buffer.alloc(0)),
    bytes(9, Buffer.concat(Object.entries(defs).map(([k, v]) => bytes(1, Buffer.concat([str(1, k), bytes(2, encodeSchema(v))]))))),
  ])
  return cached
}
