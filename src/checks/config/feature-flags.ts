import { defineCheck, type FindingInput } from '../types.js'
import { FEATURE_FLAG_NAMES, parseBool } from '../../config/feature-flags.js'
import { isObject } from '../../config/load.js'
import { closest } from '../../config/validate.js'
import { FLAG_VERSIONS } from '../../config/versions.js'
import { atRunner } from './util.js'

export default defineCheck({
  id: 'config-feature-flags',
  area: 'config',
  title: 'Feature flags are known and set to true or false',
  description: 'A feature flag with a value that is not a boolean makes every job of the runner fail with "could not parse feature flag"; a misspelt flag name is silently ignored. Flags that some runner version defined are checked against the targeted version by config-runner-version.',
  severity: 'fail',
  needs: [],
  catalog: ['config-invalid'],
  run: (ctx) => {
    const out: FindingInput[] = []
    const raw = (ctx.config.raw.runners as unknown[] | undefined)?.[ctx.runner.index]
    if (!isObject(raw)) return out
    const table = isObject(raw.feature_flags) ? raw.feature_flags : {}
    for (const [name, v] of Object.entries(table)) {
      if (!FEATURE_FLAG_NAMES.has(name) && !FLAG_VERSIONS[name] && name.startsWith('FF_')) {
        const guess = closest(name, [...FEATURE_FLAG_NAMES])
        out.push({ severity: 'warn', message: `unknown feature flag ${name}${guess ? ` (did you mean ${guess}?)` : ''}`, at: atRunner(ctx, 'feature_flags', name), fix: { text: guess ? `Rename it to ${guess}.` : 'Check the flag name in the runner documentation.' } })
      }
      if (typeof v !== 'boolean') {
        out.push({ message: `${name} = ${JSON.stringify(v)} is not a boolean: jobs fail with "${name}: could not parse feature flag"`, at: atRunner(ctx, 'feature_flags', name), fix: { text: 'Write true or false without quotes.', toml: `[[runners]]\n  [runners.feature_flags]\n    ${name} = ${parseBool(v) ?? true}` } })
      }
    }
    const env = Array.isArray(raw.environment) ? raw.environment : []
    env.forEach((e, i) => {
      if (typeof e !== 'string' || !e.startsWith('FF_')) return
      const [name, value = ''] = e.split(/=(.*)/s)
      if (parseBool(value) === undefined) out.push({ message: `environment entry "${e}" sets ${name} to a value that is not a boolean: jobs fail with "${name}: could not parse feature flag"`, at: atRunner(ctx, 'environment', i), fix: { text: `Write "${name}=true" or "${name}=false".` } })
      else if (!FEATURE_FLAG_NAMES.has(name!) && !FLAG_VERSIONS[name!]) {
        const guess = closest(name!, [...FEATURE_FLAG_NAMES])
        out.push({ severity: 'warn', message: `unknown feature flag ${name} in environment${guess ? ` (did you mean ${guess}?)` : ''}`, at: atRunner(ctx, 'environment', i), fix: { text: guess ? `Rename it to ${guess}.` : 'Check the flag name.' } })
      }
    })
    return out
  },
})
