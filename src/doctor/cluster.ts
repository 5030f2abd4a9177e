import type { LoadedRunner } from '../config/types.js'
import type { Facts } from '../checks/facts.js'
import { gatherGitlabFacts } from '../gitlab/facts.js'
import type { ClusterInfo } from './report.js'
import type { Gathered } from './run.js'
import type { DoctorFlags } from './prepare.js'

export interface Connection {
  /** Present when a cluster was found. */
  cluster?: ClusterInfo
  gather: (runner: LoadedRunner, signal: AbortSignal) => Promise<Gathered>
}

/**
 * How doctor reads facts: GitLab (the runner's url and token) always when not offline, and the
 * cluster when one is found the way the runner finds it.
 */
export async function connect(_flags: DoctorFlags, _runners: readonly LoadedRunner[], _opts: { signal: AbortSignal; env?: NodeJS.ProcessEnv }): Promise<Connection> {
  return {
    gather: async (runner, signal) => {
      const facts: Facts = {}
      try {
        facts.gitlab = { ok: true, value: await gatherGitlabFacts(runner, { signal, timeoutMs: 10_000 }) }
      } catch (err) {
        signal.throwIfAborted()
        facts.gitlab = { ok: false, reason: err instanceof Error ? err.message : String(err) }
      }
      return { facts }
    },
  }
}
