import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { EXIT } from '../cli/exit-codes.js'
import { clusterFlags, configFlags } from '../cli/flags.js'
import { kube, loadConfig, selectRunners } from '../config/load.js'
import { parseGoDuration } from '../config/values.js'
import { resolveCluster } from '../kube/connect.js'
import { findAndRemoveLeaks } from '../kube/cleanup.js'
import { reviewAccess } from '../kube/access.js'
import { CLEANUP_PERMISSIONS } from '../executor/permissions.js'
import { incompleteError, usageError } from '../util/errors.js'
import { echoInput } from '../util/text.js'

export default class Cleanup extends BaseCommand {
  static override summary = 'Find, and with --yes delete, resources the runner leaked.'
  static override description = `Lists the objects earlier jobs left behind in the runners' namespaces: secrets (the registry-credentials secret the runner creates before the pod), config maps and services named like the runner's objects, with no owner, older than --older-than; and runner pods stuck Terminating, deleted longer than --older-than ago but kept by a finalizer (or by a node that never confirmed). Only objects that provably belong to a runner and have no live owner are listed; secret data is never read.
Dry-run by default; --yes deletes them, after asking the cluster (access reviews) for every permission cleanup uses (gkr rbac --for cleanup prints that Role), and deleting nothing when one is missing (for a stuck pod: removes its finalizers, or force-deletes it when it has none) and reports what was removed. Exit codes: 0 nothing leaked (or everything listed was removed), 1 leaks found in dry-run or some could not be removed, 2 bad input, 3 cluster unreachable, a kind could not be listed in dry-run (e.g. no list on secrets: the other kinds are still listed), or --yes lacks a permission (nothing deleted).`

  static override examples = [
    { description: 'List what the runner leaked', command: '<%= config.bin %> <%= command.id %> -c /etc/gitlab-runner/config.toml' },
    { description: 'Delete leaks older than a day', command: '<%= config.bin %> <%= command.id %> -c config.toml --older-than 24h --yes' },
  ]

  static override flags = {
    ...configFlags,
    ...clusterFlags,
    'older-than': Flags.string({ description: 'Only objects at least this old (Go duration, e.g. 30m, 24h).', default: '1h' }),
    yes: Flags.boolean({ description: 'Delete what is listed.', default: false }),
  }

  public async run(): Promise<unknown> {
    const { flags } = await this.parse(Cleanup)
    const olderThanMs = parseGoDuration(flags['older-than'])
    if (olderThanMs === undefined || olderThanMs < 0) throw usageError('bad-duration', `--older-than ${echoInput(flags['older-than'])} is not a duration such as 30m or 24h`, { at: { flag: '--older-than' } })
    const config = await loadConfig({ path: flags.config })
    const runners = selectRunners(config, flags.runner)
    const namespaces = [...new Set(runners.map((r) => flags.namespace ?? (typeof kube(r).namespace === 'string' && kube(r).namespace ? (kube(r).namespace as string) : 'default')))]
    const target = await resolveCluster({ ...(runners[0] ? { runner: runners[0] } : {}), ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}), ...(flags['request-timeout'] ? { timeoutMs: flags['request-timeout'] } : {}), ...(flags.as ? { as: flags.as } : {}), ...(flags['as-group']?.length ? { asGroups: flags['as-group'] } : {}) })
    if (!target) throw incompleteError('no-cluster', 'cleanup needs a cluster, and no kubeconfig or in-cluster configuration was found', { suggestions: ['Pass --kubeconfig or --context.'] })
    if (flags.yes) {
      const checks = namespaces.flatMap((namespace) => CLEANUP_PERMISSIONS.map((p) => ({ verb: p.verb, group: p.apiGroup, resource: p.resource, namespace })))
      const missing = (await reviewAccess(target, checks)).filter((r) => !r.allowed).map((r) => `${r.verb} ${r.resource} in namespace ${r.namespace}`)
      if (missing.length > 0) throw incompleteError('cleanup-forbidden', `cleanup --yes deleted nothing: ${target.info.identity || 'the current user'} may not ${missing.join(', ')}`, { suggestions: ['`gkr rbac --for cleanup` prints the Role cleanup needs; bind it, or run cleanup as someone who has it.', 'Without --yes, cleanup only lists (it needs the list verbs).'] })
    }
    const results = []
    for (const ns of namespaces) results.push(await findAndRemoveLeaks(target, ns, { olderThanMs, remove: flags.yes }))
    if (!this.jsonEnabled()) {
      for (const r of results) {
        for (const u of r.unlisted) this.log(`${r.namespace}: ${u.message}`)
        if (r.leaks.length === 0) this.log(`${r.namespace}: nothing leaked${r.unlisted.length > 0 ? ` among the kinds gkr could list` : ''}`)
        for (const l of r.leaks) this.log(`${flags.yes ? (r.removed.includes(l) ? 'deleted ' : 'FAILED  ') : 'leaked  '}${l.kind}/${l.name} in ${l.namespace} (created ${l.createdAt ?? 'unknown'}; ${l.why})`)
        for (const f of r.failed) this.log(`  ${f.kind}/${f.name}: ${f.error}`)
      }
      const total = results.reduce((a, r) => a + r.leaks.length, 0)
      if (total > 0 && !flags.yes) this.log(`\n${total} leaked object${total === 1 ? '' : 's'}. Run again with --yes to delete ${total === 1 ? 'it' : 'them'}.`)
    }
    const failed = results.some((r) => r.failed.length > 0) || (!flags.yes && results.some((r) => r.leaks.length > 0))
    // Kinds that could not be listed make the result incomplete, unless something failed outright.
    const incomplete = results.some((r) => r.unlisted.length > 0)
    this.setExit(failed ? EXIT.FAILED : incomplete ? EXIT.INCOMPLETE : EXIT.OK)
    return { dryRun: !flags.yes, results }
  }
}
