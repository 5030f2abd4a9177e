import type { CheckContext } from '../types.js'
import type { Location } from '../../util/errors.js'
import { isObject, kube } from '../../config/load.js'
import { Secret } from '../../util/secret.js'

/** The runner's [runners.kubernetes] table, defaults applied. */
export const k8s = (ctx: CheckContext): Record<string, unknown> => kube(ctx.runner)

/** Location of a key under [runners.kubernetes] of this runner (or of the nearest table that exists). */
export const atKube = (ctx: CheckContext, ...keys: Array<string | number>): Location => ctx.config.locate([...ctx.runner.path, 'kubernetes', ...keys])

export const atRunner = (ctx: CheckContext, ...keys: Array<string | number>): Location => ctx.config.locate([...ctx.runner.path, ...keys])

/** Whether the user wrote the key (as opposed to it being a default). */
export function written(ctx: CheckContext, ...keys: Array<string | number>): boolean {
  let v: unknown = (ctx.config.raw.runners as unknown[] | undefined)?.[ctx.runner.index]
  for (const k of ['kubernetes', ...keys]) {
    if (!isObject(v) && !Array.isArray(v)) return false
    v = (v as Record<string | number, unknown>)[k]
  }
  return v !== undefined
}

export function str(v: unknown): string | undefined {
  if (v instanceof Secret) return v.reveal() === '' ? undefined : '[REDACTED]'
  return typeof v === 'string' && v !== '' ? v : undefined
}

export function strList(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

export function tomlValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`
  if (isObject(v)) return `{ ${Object.entries(v).map(([k, x]) => `${tomlKey(k)} = ${tomlValue(x)}`).join(', ')} }`
  return String(v)
}

export const tomlKey = (k: string): string => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k))

/** A config.toml snippet: the runner's table header, then `key = value` lines (sub-tables allowed). */
export function tomlFix(ctx: CheckContext, table: string, entries: Record<string, unknown>, extra = ''): string {
  const name = ctx.runner.name ? `  name = ${JSON.stringify(ctx.runner.name)}\n` : ''
  const body = Object.entries(entries).map(([k, v]) => `    ${tomlKey(k)} = ${tomlValue(v)}`).join('\n')
  return `[[runners]]\n${name}  [${table}]\n${body}${extra ? `\n${extra}` : ''}`
}
