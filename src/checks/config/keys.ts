import { defineCheck, type FindingInput } from '../types.js'
import { validateConfig, type ConfigIssue } from '../../config/validate.js'
import type { LoadedConfig } from '../../config/types.js'

/** Validation runs once per file; the three checks below share its result. */
const cache = new WeakMap<LoadedConfig, ConfigIssue[]>()
function issues(config: LoadedConfig): ConfigIssue[] {
  let v = cache.get(config)
  if (!v) cache.set(config, (v = validateConfig(config.raw)))
  return v
}

const fixFor = (i: ConfigIssue): FindingInput['fix'] =>
  i.kind === 'misplaced-key'
    ? { text: `Move ${String(i.path[i.path.length - 1])} into ${i.belongsIn}${i.suggestion && i.suggestion !== i.path[i.path.length - 1] ? ` and spell it ${i.suggestion}` : ''}.` }
    : i.suggestion
      ? { text: `Rename the key to ${i.suggestion}.` }
      : { text: 'Remove the key, or check the runner documentation for the right name.' }

/** The table header as TOML writes it: the key path without array positions. */
const header = (i: ConfigIssue): string => i.path.filter((p) => typeof p === 'string').join('.')

function wrongTypeFix(i: ConfigIssue): NonNullable<FindingInput['fix']> {
  if (i.expected === 'table[]' && i.got === 'a table') {
    return { text: `Use double brackets: each [[${header(i)}]] header starts one entry of the list, and the runner cannot load the file with a single-bracket [${header(i)}].`, toml: `[[${header(i)}]]` }
  }
  if (i.expected === 'table' && i.got === 'an array') {
    return { text: `Use single brackets: ${header(i)} is one table, not a list of them.`, toml: `[${header(i)}]` }
  }
  return { text: 'Write the value with the type shown (strings in quotes, numbers and booleans without).' }
}

export const unknownKey = defineCheck({
  id: 'config-unknown-key',
  area: 'config',
  title: 'Every key is one the runner reads, in the table where it reads it',
  description: 'The runner silently ignores keys it does not know, so a typo (pollTimeout, poll-timeout) or a key in the wrong table (concurrent inside [[runners]], [runner.kubernetes]) leaves the setting at its default without any error.',
  severity: 'warn',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: ({ config }) =>
    issues(config)
      .filter((i) => i.kind === 'unknown-key' || i.kind === 'misplaced-key')
      .map((i) => ({ message: i.message, at: config.locate(i.path), fix: fixFor(i), details: { key: String(i.path[i.path.length - 1]), suggestion: i.suggestion } })),
})

export const removedKey = defineCheck({
  id: 'config-removed-key',
  area: 'config',
  title: 'No key the runner has removed',
  description: 'Keys the runner no longer reads (such as terminationGracePeriodSeconds, removed in 17.0) have no effect; the setting that replaced them must be used instead.',
  severity: 'warn',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: ({ config }) =>
    issues(config)
      .filter((i) => i.kind === 'removed-key')
      .map((i) => ({ message: i.message, at: config.locate(i.path), fix: { text: i.suggestion ? `Use ${i.suggestion} instead (same value).` : 'Remove the key.' } })),
})

export const wrongType = defineCheck({
  id: 'config-wrong-type',
  area: 'config',
  title: 'Every value has the type the runner expects',
  description: 'A value of the wrong type (poll_timeout = "600", privileged = "true") makes the runner refuse to load the whole config.toml, so no job runs at all.',
  severity: 'fail',
  needs: [],
  catalog: ['config-invalid'],
  scope: 'global',
  run: ({ config }) =>
    issues(config)
      .filter((i) => i.kind === 'wrong-type')
      .map((i) => ({ message: i.message, at: config.locate(i.path), fix: wrongTypeFix(i) })),
})
