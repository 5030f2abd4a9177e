import { stringify } from 'yaml'
import { REDACTED } from '../util/secret.js'

/** Variable names whose values are credentials: redacted wherever objects are printed. */
export const SECRET_VARIABLE = /(TOKEN|PASSWORD|PASSWD|SECRET|AUTH_CONFIG|PRIVATE_KEY|CREDENTIALS?)$/i

type Obj = Record<string, unknown>

function redactEnv(containers: unknown): unknown {
  if (!Array.isArray(containers)) return containers
  return containers.map((c: Obj) => (Array.isArray(c.env) ? { ...c, env: (c.env as Obj[]).map((e) => (typeof e.name === 'string' && SECRET_VARIABLE.test(e.name) && 'value' in e ? { ...e, value: REDACTED } : e)) } : c))
}

/**
 * A copy of the object safe to print: Secret values replaced by [REDACTED] (keys kept), and the values
 * of credential-looking env variables in pod containers too.
 */
export function redactObject<T extends object>(obj: T): T {
  const o = obj as Obj
  if (o.kind === 'Secret') {
    const out: Obj = { ...o }
    for (const field of ['data', 'stringData'] as const) {
      const values = o[field]
      if (values && typeof values === 'object') out[field] = Object.fromEntries(Object.keys(values).map((k) => [k, REDACTED]))
    }
    return out as T
  }
  if (o.kind === 'Pod' && o.spec && typeof o.spec === 'object') {
    const spec = o.spec as Obj
    return { ...o, spec: { ...spec, containers: redactEnv(spec.containers), ...(spec.initContainers ? { initContainers: redactEnv(spec.initContainers) } : {}) } } as T
  }
  return obj
}

/** Objects as a multi-document YAML stream (secrets redacted), with a header comment. */
export function objectsYaml(objects: readonly object[], header: string[] = []): string {
  const head = header.map((l) => `# ${l}\n`).join('')
  return head + objects.map((o) => `---\n${stringify(redactObject(o), { aliasDuplicateObjects: false, lineWidth: 0 })}`).join('')
}
