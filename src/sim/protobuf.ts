/**
 * The few protobuf messages kubectl ≥ 1.32 sends to an API server (access reviews), decoded just far
 * enough to answer them: the `k8s\0` envelope, runtime.Unknown, and the review specs (k8s-api.md §1.7).
 */
type Fields = Map<number, Array<Buffer | number>>

function readVarint(buf: Buffer, pos: number): [number, number] {
  const start = pos
  let result = 0
  let shift = 0
  for (;;) {
    const b = buf[pos++]!
    result += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return shift < 49 ? [result, pos] : [longVarint(buf, start, pos), pos]
    shift += 7
  }
}

/**
 * A varint of more than 49 bits, exactly, as the signed 64-bit integer Go wrote: a negative int32 or
 * int64 is a ten-byte varint, which a double cannot hold.
 */
function longVarint(buf: Buffer, from: number, to: number): number {
  let v = 0n
  for (let i = to - 1; i >= from; i--) v = (v << 7n) | BigInt(buf[i]! & 0x7f)
  return Number(BigInt.asIntN(64, v))
}

export function fields(buf: Buffer): Fields {
  const out: Fields = new Map()
  let pos = 0
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos)
    pos = p1
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    let value: Buffer | number
    if (wire === 0) {
      ;[value, pos] = readVarint(buf, pos)
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos)
      value = buf.subarray(p2, p2 + len)
      pos = p2 + len
    } else if (wire === 1) {
      value = buf.readDoubleLE(pos)
      pos += 8
    } else if (wire === 5) {
      value = buf.readFloatLE(pos)
      pos += 4
    } else throw new Error(`unsupported protobuf wire type ${wire}`)
    out.set(field, [...(out.get(field) ?? []), value])
  }
  return out
}

const str = (f: Fields, n: number): string | undefined => {
  const v = f.get(n)?.[0]
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined
}
const sub = (f: Fields, n: number): Fields | undefined => {
  const v = f.get(n)?.[0]
  return Buffer.isBuffer(v) ? fields(v) : undefined
}

/** The object inside a `k8s\0` protobuf envelope, as { kind, raw fields }. */
export function unwrap(body: Buffer): { kind?: string; raw: Fields } {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\u0000') throw new Error('not a Kubernetes protobuf envelope')
  const unknown = fields(body.subarray(4))
  const typeMeta = sub(unknown, 1)
  const raw = unknown.get(2)?.[0]
  return { kind: typeMeta ? str(typeMeta, 2) : undefined, raw: Buffer.isBuffer(raw) ? fields(raw) : new Map() }
}

/** SelfSubjectAccessReview / SubjectAccessReview / SelfSubjectRulesReview as the JSON the server would have got. */
export function reviewFromProtobuf(body: Buffer): Record<string, unknown> {
  const { kind, raw } = unwrap(body)
  const spec: Fields = sub(raw, 2) ?? new Map()
  if (kind === 'SelfSubjectRulesReview') return { kind, spec: { namespace: str(spec, 1) ?? '' } }
  const out: Record<string, unknown> = {}
  const ra = sub(spec, 1)
  if (ra) {
    out.resourceAttributes = Object.fromEntries(
      (['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const).map((k, i) => [k, str(ra, i + 1)]).filter(([, v]) => v !== undefined),
    )
  }
  const nra = sub(spec, 2)
  if (nra) out.nonResourceAttributes = { path: str(nra, 1), verb: str(nra, 2) }
  if (kind === 'SubjectAccessReview') {
    const user = str(spec, 3)
    if (user) out.user = user
    const groups: Array<Buffer | number> = spec.get(4) ?? []
    out.groups = groups.filter((b): b is Buffer => Buffer.isBuffer(b)).map((b) => b.toString('utf8'))
  }
  return { kind, spec: out }
}
