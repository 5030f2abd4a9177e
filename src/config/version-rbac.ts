/**
 * `gkr rbac --runner-version`: the permissions of the newest runner (src/executor/permissions.ts),
 * adjusted to what an older runner version calls (src/config/versions.ts PERMISSION_VERSIONS).
 */
import type { Permission } from '../executor/permissions.js'
import type { LoadedConfig, LoadedRunner } from './types.js'
import { isObject } from './load.js'
import { extraPermissionsInVersion, permissionInVersion, runnerAtVersion } from './version.js'

/** The runner as its targeted version sees it (flag defaults and keys of that version). */
export function versionedRunner(config: LoadedConfig, runner: LoadedRunner): LoadedRunner {
  const version = config.runnerVersion?.version
  if (!version) return runner
  const raw = (config.raw.runners as unknown[] | undefined)?.[runner.index]
  return runnerAtVersion(runner, version, isObject(raw) ? raw : {})
}

export function permissionsAt(perms: readonly Permission[], runner: LoadedRunner, version: string | undefined): Permission[] {
  if (!version) return [...perms]
  const kept = perms.filter((p) => permissionInVersion(p, version, runner.featureFlags))
  for (const x of extraPermissionsInVersion(version, runner.featureFlags)) {
    if (kept.some((p) => p.apiGroup === x.apiGroup && p.resource === x.resource && p.verb === x.verb)) continue
    kept.push({ apiGroup: x.apiGroup, resource: x.resource, verb: x.verb, reason: x.reason, when: `runner ${x.since} to ${x.until ? `before ${x.until}` : 'now'}, attach strategy` })
  }
  return kept
}
