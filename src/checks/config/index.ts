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
]
