import type { Check } from '../types.js'
import { removedKey, unknownKey, wrongType } from './keys.js'
import executor from './executor.js'
import featureFlags from './feature-flags.js'
import resources from './resources.js'
import values from './values.js'
import pollTimeout from './poll-timeout.js'
import pullPolicy from './pull-policy.js'
import windows from './windows.js'
import readOnlyRootfs from './read-only-rootfs.js'
import helperAlpineDns from './helper-alpine-dns.js'
import dindMtu from './dind-mtu.js'
import kubeAuth from './kube-auth.js'
import runnerVersion from './runner-version.js'
import { helmLegacy, helmManager, helmRbac, helmTemplate } from './helm.js'

/**
 * A finding located at (or inside) a value a template computes says so: gkr checked the runner's
 * default there, not the value the template will produce.
 */
function sayingUnknowns(check: Check): Check {
  return {
    ...check,
    run: (ctx) => {
      const out = check.run(ctx)
      const unknown = ctx.config.unknown ?? []
      if (!Array.isArray(out) || unknown.length === 0) return out
      return out.map((f) => {
        const at = f.at?.path
        const u = at ? unknown.find((x) => at === x.path || at.startsWith(`${x.path}.`) || at.startsWith(`${x.path}[`) || x.path.startsWith(`${at}.`)) : undefined
        return u ? { ...f, message: `${f.message} (depends on ${u.path} = ${u.expr}, which a template computes: gkr cannot know its value)`, details: { ...f.details, dependsOnTemplate: u.path } } : f
      })
    },
  }
}

/** Offline checks of the runner configuration alone (no cluster needed). */
export const configChecks: readonly Check[] = [
  wrongType,
  unknownKey,
  removedKey,
  executor,
  featureFlags,
  kubeAuth,
  resources,
  values,
  pollTimeout,
  pullPolicy,
  windows,
  readOnlyRootfs,
  helperAlpineDns,
  dindMtu,
  runnerVersion,
  helmTemplate,
  helmLegacy,
  helmRbac,
  helmManager,
].map(sayingUnknowns)
