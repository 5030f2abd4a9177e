/**
 * The workloads kubectl's shortcuts send in protobuf (`kubectl create deployment|job|cronjob`, also
 * `create job --from=cronjob/…`), decoded to the JSON the API server would have decoded them to.
 *
 * Each message is a table of the fields modelled here, numbered as in the types' generated.proto
 * (k8s.io/api apps/v1, batch/v1, core/v1; k8s.io/apimachinery meta/v1). Go's protobuf marshaller writes
 * every non-pointer field, zero or not, so a zero scalar, an empty string and an empty message are left
 * out, as JSON's `omitempty` would leave them out; a field that is a pointer in Go (`replicas`,
 * `backoffLimit`, …) is only written when set, so it is kept even when zero. A field this does not model
 * that carries a value makes the whole body undecodable here (the caller answers 415, as it does for
 * kinds it does not know): nothing a client sent is silently dropped.
 */
import { fields } from './protobuf.js'

type Fields = ReturnType<typeof fields>

/** Thrown for a field with a value that is not modelled. */
export class Unmodelled extends Error {}

type Scalar = 'string' | 'int' | 'bool'
interface FieldSpec {
  json: string
  type: Scalar | 'strings' | 'map' | 'quantities' | 'intOrString' | 'time' | Message | { repeated: Message }
  /** A pointer in Go: written only when set, so kept when zero. */
  pointer?: boolean
}
type Message = Record<number, FieldSpec>

const s = (json: string, pointer = false): FieldSpec => ({ json, type: 'string', pointer })
const i = (json: string, pointer = false): FieldSpec => ({ json, type: 'int', pointer })
const b = (json: string, pointer = false): FieldSpec => ({ json, type: 'bool', pointer })
const m = (json: string, type: Message): FieldSpec => ({ json, type })
const list = (json: string, type: Message): FieldSpec => ({ json, type: { repeated: type } })

/** meta/v1 ObjectMeta; selfLink (4), generation (7) and the timestamps (8, 9) are the server's to set. */
const OBJECT_META: Message = {
  1: s('name'),
  2: s('generateName'),
  3: s('namespace'),
  5: s('uid'),
  6: s('resourceVersion'),
  8: { json: 'creationTimestamp', type: 'time' },
  11: { json: 'labels', type: 'map' },
  12: { json: 'annotations', type: 'map' },
  13: list('ownerReferences', { 5: s('apiVersion'), 1: s('kind'), 3: s('name'), 4: s('uid'), 6: b('controller', true), 7: b('blockOwnerDeletion', true) }),
  14: { json: 'finalizers', type: 'strings' },
}
const LABEL_SELECTOR: Message = {
  1: { json: 'matchLabels', type: 'map' },
  2: list('matchExpressions', { 1: s('key'), 2: s('operator'), 3: { json: 'values', type: 'strings' } }),
}
const CONTAINER: Message = {
  1: s('name'),
  2: s('image'),
  3: { json: 'command', type: 'strings' },
  4: { json: 'args', type: 'strings' },
  5: s('workingDir'),
  6: list('ports', { 1: s('name'), 2: i('hostPort'), 3: i('containerPort'), 4: s('protocol'), 5: s('hostIP') }),
  7: list('env', { 1: s('name'), 2: s('value') }),
  8: m('resources', { 1: { json: 'limits', type: 'quantities' }, 2: { json: 'requests', type: 'quantities' } }),
  13: s('terminationMessagePath'),
  14: s('imagePullPolicy'),
  16: b('stdin'),
  17: b('stdinOnce'),
  18: b('tty'),
  20: s('terminationMessagePolicy'),
}
const POD_SPEC: Message = {
  2: list('containers', CONTAINER),
  20: list('initContainers', CONTAINER),
  3: s('restartPolicy'),
  4: i('terminationGracePeriodSeconds', true),
  5: i('activeDeadlineSeconds', true),
  6: s('dnsPolicy'),
  7: { json: 'nodeSelector', type: 'map' },
  8: s('serviceAccountName'),
  9: s('serviceAccount'),
  10: s('nodeName'),
  11: b('hostNetwork'),
  12: b('hostPID'),
  13: b('hostIPC'),
  15: list('imagePullSecrets', { 1: s('name') }),
  16: s('hostname'),
  17: s('subdomain'),
  19: s('schedulerName'),
  21: b('automountServiceAccountToken', true),
  22: list('tolerations', { 1: s('key'), 2: s('operator'), 3: s('value'), 4: s('effect'), 5: i('tolerationSeconds', true) }),
  24: s('priorityClassName'),
}
const POD_TEMPLATE: Message = { 1: m('metadata', OBJECT_META), 2: m('spec', POD_SPEC) }
const DEPLOYMENT_SPEC: Message = {
  1: i('replicas', true),
  2: m('selector', LABEL_SELECTOR),
  3: m('template', POD_TEMPLATE),
  4: m('strategy', { 1: s('type'), 2: m('rollingUpdate', { 1: { json: 'maxUnavailable', type: 'intOrString' }, 2: { json: 'maxSurge', type: 'intOrString' } }) }),
  5: i('minReadySeconds'),
  6: i('revisionHistoryLimit', true),
  7: b('paused'),
  9: i('progressDeadlineSeconds', true),
}
const JOB_SPEC: Message = {
  1: i('parallelism', true),
  2: i('completions', true),
  3: i('activeDeadlineSeconds', true),
  4: m('selector', LABEL_SELECTOR),
  5: b('manualSelector', true),
  6: m('template', POD_TEMPLATE),
  7: i('backoffLimit', true),
  8: i('ttlSecondsAfterFinished', true),
  9: s('completionMode', true),
  10: b('suspend', true),
  12: i('backoffLimitPerIndex', true),
  13: i('maxFailedIndexes', true),
  14: s('podReplacementPolicy', true),
  15: s('managedBy', true),
}
const CRONJOB_SPEC: Message = {
  1: s('schedule'),
  8: s('timeZone', true),
  2: i('startingDeadlineSeconds', true),
  3: s('concurrencyPolicy'),
  4: b('suspend', true),
  5: m('jobTemplate', { 1: m('metadata', OBJECT_META), 2: m('spec', JOB_SPEC) }),
  6: i('successfulJobsHistoryLimit', true),
  7: i('failedJobsHistoryLimit', true),
}

/** The top-level kinds: metadata 1, spec 2; status (3) is the server's and ignored on writes, as there. */
const KINDS: Record<string, { apiVersion: string; spec: Message }> = {
  Deployment: { apiVersion: 'apps/v1', spec: DEPLOYMENT_SPEC },
  Job: { apiVersion: 'batch/v1', spec: JOB_SPEC },
  CronJob: { apiVersion: 'batch/v1', spec: CRONJOB_SPEC },
}

export function isWorkloadKind(kind: string): boolean {
  return kind in KINDS
}

/** The object of a Deployment, Job or CronJob body (`raw`: the fields of runtime.Unknown's raw bytes). */
export function decodeWorkload(kind: string, raw: Fields): Record<string, unknown> {
  const k = KINDS[kind]!
  const top: Message = { 1: m('metadata', OBJECT_META), 2: m('spec', k.spec) }
  const body = message(top, raw, new Set([3]))
  return { apiVersion: k.apiVersion, kind, metadata: body.metadata ?? {}, ...(body.spec ? { spec: body.spec } : {}) }
}

function isEmpty(v: Buffer | number): boolean {
  return typeof v === 'number' ? v === 0 : v.length === 0
}

function message(spec: Message, f: Fields, ignored: ReadonlySet<number> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [n, values] of f) {
    const field = spec[n]
    if (!field) {
      if (ignored.has(n) || values.every(isEmpty)) continue
      throw new Unmodelled(`field ${n}`)
    }
    const v = value(field, values)
    if (v !== undefined) out[field.json] = v
  }
  return out
}

const bufs = (values: Array<Buffer | number>): Buffer[] => {
  if (!values.every((v): v is Buffer => Buffer.isBuffer(v))) throw new Unmodelled('wire type')
  return values
}
const utf8 = (v: Buffer): string => v.toString('utf8')

function value(field: FieldSpec, values: Array<Buffer | number>): unknown {
  const last = values[values.length - 1]!
  const t = field.type
  switch (t) {
    case 'string': {
      const str = utf8(bufs([last])[0]!)
      return str || field.pointer ? str : undefined
    }
    case 'int': {
      if (typeof last !== 'number') throw new Unmodelled('wire type')
      return last !== 0 || field.pointer ? last : undefined
    }
    case 'bool': {
      if (typeof last !== 'number') throw new Unmodelled('wire type')
      return last !== 0 || field.pointer ? last !== 0 : undefined
    }
    case 'strings': {
      const all = bufs(values).map(utf8)
      return all.length ? all : undefined
    }
    case 'map':
    case 'quantities': {
      // Repeated entries of key (1) and value (2); a Quantity is a message holding its string (1).
      const entries = bufs(values).map((e) => fields(e))
      const pairs = entries.map((e): [string, string] => {
        const key = e.get(1)?.[0]
        let val = e.get(2)?.[0]
        if (t === 'quantities' && Buffer.isBuffer(val)) val = fields(val).get(1)?.[0]
        return [Buffer.isBuffer(key) ? utf8(key) : '', Buffer.isBuffer(val) ? utf8(val) : '']
      })
      return pairs.length ? Object.fromEntries(pairs) : undefined
    }
    case 'intOrString': {
      // IntOrString: type 1 (0 int, 1 string), intVal 2, strVal 3.
      const io = fields(bufs([last])[0]!)
      const kind = io.get(1)?.[0]
      const sv = io.get(3)?.[0]
      const iv = io.get(2)?.[0]
      return kind === 1 ? (Buffer.isBuffer(sv) ? utf8(sv) : '') : typeof iv === 'number' ? iv : 0
    }
    case 'time': {
      // meta/v1 Time: seconds 1, nanos 2; the zero time is no time (JSON null, left out).
      const tf = fields(bufs([last])[0]!)
      const secs = tf.get(1)?.[0]
      return typeof secs === 'number' && secs !== 0 ? new Date(secs * 1000).toISOString().replace('.000Z', 'Z') : undefined
    }
    default: {
      if ('repeated' in t) {
        const items = bufs(values).map((v) => message(t.repeated, fields(v)))
        return items.length ? items : undefined
      }
      const sub = message(t, fields(bufs([last])[0]!))
      return Object.keys(sub).length ? sub : undefined
    }
  }
}
