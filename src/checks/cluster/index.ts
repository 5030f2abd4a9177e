import type { Check } from '../types.js'
import permissions from './permissions.js'
import namespace from './namespace.js'
import references from './references.js'
import dryRun from './dry-run.js'
import quota from './quota.js'
import limitRange from './limit-range.js'
import readOnlyPolicy from './read-only-policy.js'
import podSecurity from './pod-security.js'
import leakedResources from './leaked-resources.js'
import scheduling from './scheduling.js'
import managerPod from './manager-pod.js'
import webhooks from './webhooks.js'
import pendingPods from './pending-pods.js'
import apiHealth from './api-health.js'
import { probeDns, probeMtu, probeStart } from './probe.js'

/** Checks that judge facts gathered from a cluster. */
export const clusterChecks: readonly Check[] = [namespace, permissions, references, dryRun, quota, limitRange, leakedResources, scheduling, managerPod, webhooks, readOnlyPolicy, podSecurity, pendingPods, apiHealth, probeStart, probeDns, probeMtu]
