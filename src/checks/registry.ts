import type { Check } from './types.js'
import { configChecks } from './config/index.js'
import { clusterChecks } from './cluster/index.js'
import { gitlabChecks } from './gitlab/index.js'

/** Every check gkr has, in report order. A meta-test keeps this list, the docs and the fixtures in step. */
export const ALL_CHECKS: readonly Check[] = [...configChecks, ...clusterChecks, ...gitlabChecks]

export function findCheck(id: string): Check | undefined {
  return ALL_CHECKS.find((c) => c.id === id)
}
