import { defineCheck, type FindingInput } from '../types.js'
import { isObject } from '../../config/load.js'
import { allKeyPaths } from '../../config/schema.js'
import { NEWEST_KNOWN } from '../../config/versions.js'
import { compareVersions, flagDefaultIn, flagVersion, keyVersion, outsideTable, parseRunnerVersion } from '../../config/version.js'
import { atRunner } from './util.js'

/** Schema paths whose values are free-form (maps, open tables): their own keys are not versioned. */
const LEAF_PATHS = new Set(allKeyPaths().filter((p) => p.def.kind === 'map' || p.def.open).map((p) => p.path))

/** Every key path written in a runner's raw table, as schema paths (`runners[].kubernetes.x`). */
function writtenPaths(v: unknown, at: Array<string | number>, out: Array<Array<string | number>>): void {
  if (Array.isArray(v)) v.forEach((x, i) => (isObject(x) ? writtenPaths(x, [...at, i], out) : undefined))
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const here = [...at, k]
      out.push(here)
      const schema = here.map((s) => (typeof s === 'number' ? '[]' : s)).join('.').replace(/\.\[\]/g, '[]')
      if (!LEAF_PATHS.has(schema)) writtenPaths(x, here, out)
    }
  }
}

export default defineCheck({
  id: 'config-runner-version',
  area: 'config',
  title: 'Keys and feature flags exist in the runner version the configuration targets',
  description:
    'Each runner version reads the keys and feature flags its own code knows: a key added in a later version, or one removed since, is silently ignored, and a feature flag the version does not define has no effect. The version is taken, first source first: --runner-version, the chart values\' image.tag (or an image string with a tag), Chart.yaml appVersion, the chart version a HelmRelease, Argo CD Application or Helmfile pins, and, when doctor reaches the cluster from inside the manager pod, the tag of that pod\'s gitlab-runner image; without one the newest runner gkr knows is assumed. Findings name the source. docs/config-reference.md lists the version of every key.',
  severity: 'warn',
  needs: [],
  catalog: ['config-invalid'],
  run: (ctx) => {
    const out: FindingInput[] = []
    const target = ctx.config.runnerVersion
    const version = target?.version ?? NEWEST_KNOWN
    const said = target ? `this configuration targets ${version} (${target.from})` : `no runner version is known: compared with ${NEWEST_KNOWN}, the newest gkr knows (pass --runner-version)`
    if (target && outsideTable(version)) return [{ severity: 'info', message: `runner ${version} (${target.from}) is outside the versions gkr's table was read from (12.0 to ${NEWEST_KNOWN}): keys and flags are not checked against it`, at: ctx.config.locate(ctx.runner.path), fix: { text: 'Check the runner release notes for that version.' } }]
    const raw = (ctx.config.raw.runners as unknown[] | undefined)?.[ctx.runner.index]
    if (!isObject(raw)) return out
    const paths: Array<Array<string | number>> = []
    writtenPaths(raw, [...ctx.runner.path], paths)
    for (const p of paths) {
      const kv = keyVersion(p)
      if (!kv) continue
      const name = p.filter((s) => typeof s === 'string').slice(1).join('.')
      if (compareVersions(version, kv.added) < 0) {
        out.push({ message: `${name} was added in runner ${kv.added}, and ${said}: that runner ignores it`, at: ctx.config.locate(p), fix: { text: `Upgrade the runner to ${kv.added} or later, or remove ${name}.` }, details: { key: name, added: kv.added, target: version } })
      } else if (kv.removed && target && compareVersions(version, kv.removed) < 0) {
        out.push({ severity: 'info', message: `${name} was removed in runner ${kv.removed} (${said}: still read)`, at: ctx.config.locate(p), fix: { text: `Replace it before upgrading to ${kv.removed}.` } })
      }
    }
    const flags: Array<{ name: string; at: Array<string | number> }> = []
    if (isObject(raw.feature_flags)) for (const name of Object.keys(raw.feature_flags)) flags.push({ name, at: ['feature_flags', name] })
    if (Array.isArray(raw.environment)) raw.environment.forEach((e, i) => typeof e === 'string' && e.startsWith('FF_') && flags.push({ name: e.split('=')[0]!, at: ['environment', i] }))
    for (const f of flags) {
      const fv = flagVersion(f.name)
      if (!fv) continue
      if (compareVersions(version, fv.added) < 0) {
        out.push({ message: `${f.name} was added in runner ${fv.added}, and ${said}: that runner does not know the flag`, at: atRunner(ctx, ...f.at), fix: { text: `Upgrade the runner to ${fv.added} or later, or remove the flag.` } })
      } else if (fv.removed && compareVersions(version, fv.removed) >= 0) {
        const last = fv.defaults[fv.defaults.length - 1]
        out.push({ message: `${f.name} was removed in runner ${fv.removed}, and ${said}: the flag has no effect${last ? ` (the runner behaves as the flag's last default, ${last[1]})` : ''}`, at: atRunner(ctx, ...f.at), fix: { text: 'Remove the flag.' }, details: { flag: f.name, removed: fv.removed } })
      } else if (fv.removed && target) {
        out.push({ severity: 'info', message: `${f.name} was removed in runner ${fv.removed} (${said}: still honoured)`, at: atRunner(ctx, ...f.at), fix: { text: `Remove it before upgrading to ${fv.removed}.` } })
      } else if (target && fv.deprecated && compareVersions(version, fv.deprecated) >= 0 && flagDefaultIn(f.name, version) !== undefined) {
        out.push({ severity: 'info', message: `${f.name} is deprecated since runner ${fv.deprecated}`, at: atRunner(ctx, ...f.at), fix: { text: 'Plan to remove it.' } })
      }
    }
    const helper = typeof (raw.kubernetes as Record<string, unknown> | undefined)?.helper_image === 'string' ? String((raw.kubernetes as Record<string, unknown>).helper_image) : ''
    const m = /gitlab-runner-helper:(?:[a-z0-9.]+-)?(?:x86_64|arm64|arm|s390x|ppc64le|riscv64)-(v\d+\.\d+\.\d+)/.exec(helper)
    const helperVersion = m ? parseRunnerVersion(m[1]!) : undefined
    if (target && helperVersion && helperVersion !== version) {
      out.push({ message: `helper_image is the helper of runner ${helperVersion}, and ${said}: the helper and the runner must be the same version`, at: ctx.config.locate([...ctx.runner.path, 'kubernetes', 'helper_image']), fix: { text: 'Remove helper_image (the runner picks its own helper), or use the helper tag of the runner version.' } })
    }
    return out
  },
})
