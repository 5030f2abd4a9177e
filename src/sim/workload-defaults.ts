/**
 * What the API server fills in when a workload is created (the batch and apps defaulting functions
 * and the Job strategy's selector), so `kubectl get -o yaml` reads back what a real cluster stores.
 * Pure: the store calls `prepareWorkload` once the object has its uid.
 */
import type { ResourceDef } from './resources.js'
import type { Obj } from './object.js'

type Rec = Record<string, unknown>
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)
/** The object under `key`, created when missing; undefined when something else is there (left alone). */
const child = (o: Rec, key: string): Rec | undefined => {
  if (o[key] === undefined) o[key] = {}
  return isRec(o[key]) ? o[key] : undefined
}

/** The labels a Job's pods carry and its selector matches: the job's name and its uid, each under two keys. */
export function jobPodLabels(name: string, uid: string): Record<string, string> {
  return { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name }
}

/** Pod template defaults every workload's template gets (the core defaulting of a PodSpec). */
function defaultPodTemplate(template: Rec, restartPolicy: string): void {
  const spec = child(template, 'spec')
  if (!spec) return
  spec.restartPolicy ??= restartPolicy
  spec.terminationGracePeriodSeconds ??= 30
  spec.dnsPolicy ??= 'ClusterFirst'
  spec.schedulerName ??= 'default-scheduler'
  spec.securityContext ??= {}
}

/** A Job: counts and policies, and (unless `manualSelector`) the selector the controller's labels match. */
function defaultJob(obj: Obj): void {
  const spec = child(obj, 'spec')
  if (!spec) return
  // Neither set: one pod to one completion. Only parallelism: a work queue, completions stay unset.
  if (spec.completions == null && spec.parallelism == null) spec.completions = 1
  spec.parallelism ??= 1
  spec.backoffLimit ??= 6
  spec.completionMode ??= 'NonIndexed'
  spec.suspend ??= false
  if (spec.podFailurePolicy === undefined) spec.podReplacementPolicy ??= 'TerminatingOrFailed'
  const template = child(spec, 'template')
  if (!template) return
  defaultPodTemplate(template, 'Never')
  if (spec.manualSelector === true) return
  const meta = child(template, 'metadata')
  if (!meta) return
  const generated = jobPodLabels(obj.metadata.name ?? '', obj.metadata.uid ?? '')
  meta.labels = { ...(isRec(meta.labels) ? meta.labels : {}), ...generated }
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': obj.metadata.uid } }
  // Read back from etcd, a Job without labels of its own has its template's.
  if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata.labels = { ...(meta.labels as Record<string, string>) }
}

function defaultCronJob(obj: Obj): void {
  const spec = child(obj, 'spec')
  if (!spec) return
  spec.concurrencyPolicy ??= 'Allow'
  spec.suspend ??= false
  spec.successfulJobsHistoryLimit ??= 3
  spec.failedJobsHistoryLimit ??= 1
  const jobTemplate = child(spec, 'jobTemplate')
  const jobSpec = jobTemplate && child(jobTemplate, 'spec')
  const template = jobSpec && child(jobSpec, 'template')
  if (template) defaultPodTemplate(template, 'Never')
}

/** A Deployment or ReplicaSet: one replica, and a Deployment's rolling-update strategy and limits. */
function defaultApps(obj: Obj, deployment: boolean): void {
  const spec = child(obj, 'spec')
  if (!spec) return
  spec.replicas ??= 1
  const template = child(spec, 'template')
  if (template) defaultPodTemplate(template, 'Always')
  if (!deployment) return
  spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }
  spec.revisionHistoryLimit ??= 10
  spec.progressDeadlineSeconds ??= 600
}

export function prepareWorkload(def: ResourceDef, obj: Obj): void {
  if (def.group === 'batch' && def.resource === 'jobs') defaultJob(obj)
  else if (def.group === 'batch' && def.resource === 'cronjobs') defaultCronJob(obj)
  else if (def.group === 'apps' && (def.resource === 'deployments' || def.resource === 'replicasets')) defaultApps(obj, def.resource === 'deployments')
}
