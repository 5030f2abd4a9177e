/**
 * A small JSON Schema checker for the keywords docs/schemas/explain-result.schema.json uses (type,
 * required, properties, additionalProperties, items, enum, pattern, minimum, maxLength, maxItems).
 * gkr has no schema library as a dependency; an unknown keyword fails loudly so the schema cannot
 * silently outgrow this checker.
 */
type Schema = Record<string, unknown>
const KNOWN = new Set(['$schema', '$id', 'title', 'description', 'type', 'required', 'properties', 'additionalProperties', 'items', 'enum', 'pattern', 'minimum', 'maxLength', 'maxItems'])

export function schemaErrors(schema: Schema, value: unknown, at = '$'): string[] {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`mini-schema: unsupported keyword ${k} at ${at}`)
  const errs: string[] = []
  const type = schema.type as string | undefined
  const is: Record<string, (v: unknown) => boolean> = {
    object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    array: Array.isArray,
    string: (v) => typeof v === 'string',
    integer: Number.isInteger,
    boolean: (v) => typeof v === 'boolean',
  }
  if (type && !is[type]!(value)) return [`${at}: expected ${type}, got ${JSON.stringify(value)}`]
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errs.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`)
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern as string).test(value)) errs.push(`${at}: does not match ${schema.pattern as string}`)
    if (schema.maxLength !== undefined && value.length > (schema.maxLength as number)) errs.push(`${at}: longer than ${schema.maxLength as number}`)
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < (schema.minimum as number)) errs.push(`${at}: below ${schema.minimum as number}`)
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > (schema.maxItems as number)) errs.push(`${at}: more than ${schema.maxItems as number} items`)
    if (schema.items) value.forEach((v, i) => errs.push(...schemaErrors(schema.items as Schema, v, `${at}[${i}]`)))
  }
  if (is.object!(value)) {
    const obj = value as Record<string, unknown>
    const props = (schema.properties ?? {}) as Record<string, Schema>
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errs.push(`${at}: missing ${r}`)
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errs.push(...schemaErrors(props[k], v, `${at}.${k}`))
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected property ${k}`)
      else if (typeof schema.additionalProperties === 'object') errs.push(...schemaErrors(schema.additionalProperties as Schema, v, `${at}.${k}`))
    }
  }
  return errs
}
