/**
 * What the API server checks before admission: the shape and types of the fields (a decode error is
 * 400 BadRequest), then names, label keys and values and resource quantities of the kinds the runner
 * creates (422 Invalid, a cause with its field path each). Anything the simulator later reads from
 * an object has been checked here, so no wrong-typed field can reach the scheduler or the kubelet.
 */
import type { ResourceDef } from './resources.js'
import { StatusError, badRequest } from './status.js'

export interface Cause {
  field: string
  message: string
  reason: string
}

type Json = unknown

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$/
const C_IDENT = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/

const goType = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v)
const show = (v: Json): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v))

/** A decode error, worded as the API server's JSON decoder words it. */
function decodeError(kind: string, field: string, v: Json, want: string): StatusError {
  return badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal ${goType(v)} into Go struct field ${field} of type ${want}`)
}

/** Types of the fields read: a small schema, checked before anything else. */
type Schema = 'string' | 'boolean' | 'integer' | 'stringMap' | 'quantityMap' | { array: Schema } | { object: Record<string, Schema> } | 'any'

const META: Record<string, Schema> = { name: 'string', generateName: 'string', namespace: 'string', labels: 'stringMap', annotations: 'stringMap', resourceVersion: 'string', uid: 'string', finalizers: { array: 'string' }, ownerReferences: { array: { object: { apiVersion: 'string', kind: 'string', name: 'string', uid: 'string', controller: 'boolean', blockOwnerDeletion: 'boolean' } } } }
const RESOURCES_SCHEMA: Schema = { object: { requests: 'quantityMap', limits: 'quantityMap' } }
const CONTAINER: Schema = {
  object: {
    name: 'string', image: 'string', imagePullPolicy: 'string', command: { array: 'string' }, args: { array: 'string' }, workingDir: 'string', stdin: 'boolean', stdinOnce: 'boolean', tty: 'boolean',
    env: { array: { object: { name: 'string', value: 'string', valueFrom: 'any' } } },
    ports: { array: { object: { name: 'string', containerPort: 'integer', protocol: 'string', hostPort: 'integer' } } },
    resources: RESOURCES_SCHEMA,
    volumeMounts: { array: { object: { name: 'string', mountPath: 'string', subPath: 'string', readOnly: 'boolean' } } },
    securityContext: { object: { readOnlyRootFilesystem: 'boolean', privileged: 'boolean', runAsUser: 'integer', runAsGroup: 'integer', runAsNonRoot: 'boolean', allowPrivilegeEscalation: 'boolean', capabilities: 'any' } },
  },
}
const POD_SPEC: Schema = {
  object: {
    containers: { array: CONTAINER }, initContainers: { array: CONTAINER }, restartPolicy: 'string', nodeName: 'string', nodeSelector: 'stringMap', serviceAccountName: 'string', serviceAccount: 'string', automountServiceAccountToken: 'boolean',
    tolerations: { array: { object: { key: 'string', operator: 'string', value: 'string', effect: 'string', tolerationSeconds: 'integer' } } },
    hostAliases: { array: { object: { ip: 'string', hostnames: { array: 'string' } } } },
    imagePullSecrets: { array: { object: { name: 'string' } } }, volumes: { array: { object: { name: 'string' } } }, affinity: 'any', securityContext: 'any', schedulerName: 'string', priorityClassName: 'string', runtimeClassName: 'string', hostname: 'string', subdomain: 'string', dnsPolicy: 'string', dnsConfig: 'any', terminationGracePeriodSeconds: 'integer', activeDeadlineSeconds: 'integer', hostNetwork: 'boolean',
  },
}
const BODY: Record<string, Record<string, Schema>> = {
  pods: { spec: POD_SPEC, status: 'any' },
  secrets: { data: 'stringMap', stringData: 'stringMap', type: 'string', immutable: 'boolean' },
  configmaps: { data: 'stringMap', binaryData: 'stringMap', immutable: 'boolean' },
  services: { spec: { object: { selector: 'stringMap', type: 'string', clusterIP: 'string', ports: { array: { object: { name: 'string', port: 'integer', targetPort: 'any', protocol: 'string' } } } } } },
  serviceaccounts: { secrets: { array: { object: { name: 'string' } } }, imagePullSecrets: { array: { object: { name: 'string' } } }, automountServiceAccountToken: 'boolean' },
}

/** The kinds whose names must be DNS subdomains (services and namespaces: DNS labels). */
const NAMED = new Set(['pods', 'secrets', 'configmaps', 'services', 'serviceaccounts', 'namespaces'])

const GO: Record<string, string> = { string: 'string', boolean: 'bool', integer: 'int32', stringMap: 'map[string]string', quantityMap: 'v1.ResourceList' }

function checkType(kind: string, path: string, v: Json, s: Schema): void {
  if (v === undefined || v === null || s === 'any') return
  const fail = (want: string): never => {
    throw decodeError(kind, path, v, want)
  }
  if (s === 'string') return void (typeof v !== 'string' && fail('string'))
  if (s === 'boolean') return void (typeof v !== 'boolean' && fail('bool'))
  if (s === 'integer') return void ((typeof v !== 'number' || !Number.isInteger(v)) && fail('int32'))
  if (s === 'stringMap' || s === 'quantityMap') {
    if (typeof v !== 'object' || Array.isArray(v)) fail(GO[s]!)
    for (const [k, x] of Object.entries(v as object)) {
      if (s === 'stringMap' && typeof x !== 'string' && x !== null) throw decodeError(kind, `${path}[${k}]`, x, 'string')
      if (s === 'quantityMap' && typeof x !== 'string' && typeof x !== 'number') throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`)
    }
    return
  }
  if ('array' in s) {
    if (!Array.isArray(v)) fail(`[]${typeof s.array === 'string' ? GO[s.array] ?? s.array : 'object'}`)
    const items = v as Json[]
    items.forEach((x, i) => {
      // Go decodes a null element of a list of structs as the zero struct; so does the simulator.
      if (x === null && typeof s.array === 'object' && 'object' in s.array) items[i] = {}
      checkType(kind, path, items[i], s.array)
    })
    return
  }
  if (typeof v !== 'object' || Array.isArray(v)) fail('object')
  for (const [k, sub] of Object.entries(s.object)) checkType(kind, `${path}.${k}`, (v as Record<string, Json>)[k], sub)
}

/** 400 for bodies that do not decode into the kind: not an object, metadata or a field of the wrong type. */
export function checkShape(def: ResourceDef, obj: Json): void {
  const kind = def.kind
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest(`the object provided is unrecognized or could not be decoded`)
  const o = obj as Record<string, Json>
  for (const f of ['apiVersion', 'kind'] as const) if (o[f] !== undefined && typeof o[f] !== 'string') throw decodeError(kind, f, o[f], 'string')
  if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata))) throw decodeError(kind, 'metadata', o.metadata, 'v1.ObjectMeta')
  for (const [k, s] of Object.entries(META)) checkType(kind, `ObjectMeta.metadata.${k}`, (o.metadata as Record<string, Json> | undefined)?.[k], s)
  for (const [k, s] of Object.entries(BODY[def.resource] ?? {})) checkType(kind, `${kind}.${k}`, o[k], s)
}

export function nameCauses(value: string, field: string, label: boolean): Cause[] {
  const max = label ? 63 : 253
  const out: string[] = []
  if (value.length > max) out.push(`must be no more than ${max} characters`)
  if (!(label ? DNS_LABEL : DNS_SUBDOMAIN).test(value)) {
    out.push(label
      ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
  }
  return out.map((m) => ({ field, message: `Invalid value: ${JSON.stringify(value)}: ${m}`, reason: 'FieldValueInvalid' }))
}

/** Label keys: an optional DNS-subdomain prefix and '/', then a name of up to 63 characters. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/')
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined
  const name = slash >= 0 ? key.slice(slash + 1) : key
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character'
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with at most 63 characters"
  return undefined
}

export function labelValueError(value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?') with at most 63 characters"
  return undefined
}

export const isQuantity = (v: unknown): boolean => typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' && QUANTITY.test(v)

/** 422 causes for an object whose shape decoded: names, labels, quantities and required fields. */
export function objectCauses(def: ResourceDef, o: Record<string, Json>): Cause[] {
  const causes: Cause[] = []
  const meta = (o.metadata ?? {}) as { name?: string; generateName?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  const labelNames = ['namespaces', 'services'].includes(def.resource)
  // Other kinds' names (RBAC's `system:…`) follow other rules; only the runner's kinds are checked.
  if (!NAMED.has(def.resource)) {
    /* names unchecked */
  } else if (meta.name) causes.push(...nameCauses(meta.name, 'metadata.name', labelNames))
  else if (meta.generateName) causes.push(...nameCauses(`${meta.generateName}a`, 'metadata.generateName', labelNames).map((c) => ({ ...c, message: c.message.replace(JSON.stringify(`${meta.generateName}a`), JSON.stringify(meta.generateName)) })))
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    const ke = labelKeyError(k)
    if (ke) causes.push({ field: 'metadata.labels', message: `Invalid value: ${JSON.stringify(k)}: ${ke}`, reason: 'FieldValueInvalid' })
    const ve = labelValueError(String(v ?? ''))
    if (ve) causes.push({ field: `metadata.labels`, message: `Invalid value: ${JSON.stringify(v)}: ${ve}`, reason: 'FieldValueInvalid' })
  }
  for (const k of Object.keys(meta.annotations ?? {})) {
    const ke = labelKeyError(k)
    if (ke) causes.push({ field: 'metadata.annotations', message: `Invalid value: ${JSON.stringify(k)}: ${ke}`, reason: 'FieldValueInvalid' })
  }
  if (def.resource === 'pods') causes.push(...podCauses(o))
  if (def.resource === 'secrets' || def.resource === 'configmaps') {
    for (const field of ['data', 'stringData', 'binaryData']) {
      for (const k of Object.keys((o[field] as Record<string, unknown> | undefined) ?? {})) {
        if (k.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(k)) causes.push({ field: `${field}[${k}]`, message: `Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`, reason: 'FieldValueInvalid' })
      }
    }
  }
  if (def.resource === 'services') {
    const ports = ((o.spec as { ports?: Array<{ port?: number }> } | undefined)?.ports ?? [])
    ports.forEach((p, i) => {
      if (p.port === undefined) causes.push({ field: `spec.ports[${i}].port`, message: 'Required value', reason: 'FieldValueRequired' })
      else if (p.port < 1 || p.port > 65535) causes.push({ field: `spec.ports[${i}].port`, message: `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`, reason: 'FieldValueInvalid' })
    })
  }
  return causes
}

type C = { name?: string; image?: string; resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> }; env?: Array<{ name?: string }>; ports?: Array<{ containerPort?: number }> }

function podCauses(o: Record<string, Json>): Cause[] {
  const causes: Cause[] = []
  const spec = o.spec as { containers?: C[]; initContainers?: C[] } | undefined
  if (!spec?.containers?.length) causes.push({ field: 'spec.containers', message: 'Required value', reason: 'FieldValueRequired' })
  const seen = new Set<string>()
  for (const [list, cs] of [['containers', spec?.containers ?? []], ['initContainers', spec?.initContainers ?? []]] as const) {
    cs.forEach((c, i) => {
      const at = `spec.${list}[${i}]`
      if (!c.name) causes.push({ field: `${at}.name`, message: 'Required value', reason: 'FieldValueRequired' })
      else {
        causes.push(...nameCauses(c.name, `${at}.name`, true))
        if (seen.has(c.name)) causes.push({ field: `${at}.name`, message: `Duplicate value: ${JSON.stringify(c.name)}`, reason: 'FieldValueDuplicate' })
        seen.add(c.name)
      }
      if (!c.image) causes.push({ field: `${at}.image`, message: 'Required value', reason: 'FieldValueRequired' })
      for (const kind of ['requests', 'limits'] as const) {
        for (const [r, v] of Object.entries(c.resources?.[kind] ?? {})) {
          if (!isQuantity(v)) causes.push({ field: `${at}.resources.${kind}[${r}]`, message: `Invalid value: ${show(v)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`, reason: 'FieldValueInvalid' })
          else if (String(v).startsWith('-')) causes.push({ field: `${at}.resources.${kind}[${r}]`, message: `Invalid value: ${show(v)}: must be greater than or equal to 0`, reason: 'FieldValueInvalid' })
        }
      }
      ;(c.env ?? []).forEach((e, j) => {
        if (!e.name) causes.push({ field: `${at}.env[${j}].name`, message: 'Required value', reason: 'FieldValueRequired' })
        else if (!C_IDENT.test(e.name)) causes.push({ field: `${at}.env[${j}].name`, message: `Invalid value: ${JSON.stringify(e.name)}: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`, reason: 'FieldValueInvalid' })
      })
      ;(c.ports ?? []).forEach((p, j) => {
        if (p.containerPort === undefined || p.containerPort < 1 || p.containerPort > 65535) causes.push({ field: `${at}.ports[${j}].containerPort`, message: p.containerPort === undefined ? 'Required value' : `Invalid value: ${p.containerPort}: must be between 1 and 65535, inclusive`, reason: p.containerPort === undefined ? 'FieldValueRequired' : 'FieldValueInvalid' })
      })
    })
  }
  return causes
}

/** Shape first (400), then the object's content (422 Invalid with its causes). */
export function validateObject(def: ResourceDef, obj: Json): void {
  checkShape(def, obj)
  const o = obj as Record<string, Json>
  const causes = objectCauses(def, o)
  if (causes.length === 0) return
  const meta = (o.metadata ?? {}) as { name?: string; generateName?: string }
  const name = meta.name ?? meta.generateName ?? ''
  throw new StatusError(422, `${def.kind} "${name}" is invalid: ${causes.length === 1 ? `${causes[0]!.field}: ${causes[0]!.message}` : `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`}`, 'Invalid', { name, ...(def.group ? { group: def.group } : {}), kind: def.kind, causes })
}
