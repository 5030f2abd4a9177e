import { stringify } from 'yaml'
import type { CiJob } from '../ci/types.js'
import type { LoadedRunner } from '../config/types.js'
import { REDACTED, tokenMasker, type Masker } from '../util/secret.js'

/** Variable names whose values are credentials: redacted wherever objects are printed. */
export const SECRET_VARIABLE = /(TOKEN|PASSWORD|PASSWD|SECRET|AUTH_CONFIG|PRIVATE_KEY|CREDENTIALS?)$/i

type Obj = Record<string, unknown>

/**
 * The one masking rule for a job's variables, whether they come from the config's `environment`, the CI
 * file or --var: a value is masked when its variable is declared `masked`/`masked_and_hidden`, when its
 * name is credential-shaped, and wherever it is token-shaped (a GitLab token prefix), as the runner masks
 * the job log.
 */
export function jobMasker(runner: LoadedRunner | undefined, job: Pick<CiJob, 'variables' | 'masked'> | undefined, variables: Record<string, string> = {}): Masker {
  const env = runner && Array.isArray(runner.settings.environment) ? (runner.settings.environment as unknown[]) : []
  const runnerEnv = Object.fromEntries(env.filter((e): e is string => typeof e === 'string' && e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  const all = { ...variables, ...runnerEnv, ...(job?.variables ?? {}) }
  const masked = new Set(job?.masked ?? [])
  const values = Object.entries(all).filter(([k]) => masked.has(k) || SECRET_VARIABLE.test(k)).map(([, v]) => v)
  return values.length > 0 ? tokenMasker.with(values) : tokenMasker
}

function redactEnv(containers: unknown): unknown {
  if (!Array.isArray(containers)) return containers
  return containers.map((c: Obj) => (Array.isArray(c.env) ? { ...c, env: (c.env as Obj[]).map((e) => (typeof e.name === 'string' && SECRET_VARIABLE.test(e.name) && 'value' in e ? { ...e, value: REDACTED } : e)) } : c))
}

/**
 * A copy of the object safe to print: Secret values replaced by [REDACTED] (keys kept), and the values
 * of credential-looking env variables in pod containers too; then every string masked by `masker`
 * (masked variables' values and token-shaped values become [MASKED]).
 */
export function redactObject<T extends object>(obj: T, masker: Masker = tokenMasker): T {
  return masker.maskDeep(redactKnown(obj))
}

function redactKnown<T extends object>(obj: T): T {
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
export function objectsYaml(objects: readonly object[], header: string[] = [], masker: Masker = tokenMasker): string {
  const head = header.map((l) => `# ${masker.mask(l)}\n`).join('')
  return head + objects.map((o) => `---\n${stringify(redactObject(o, masker), { aliasDuplicateObjects: false, lineWidth: 0 })}`).join('')
}
