import { defineCheck, type FindingInput } from '../types.js'
import { kube } from '../../config/load.js'

export default defineCheck({
  id: 'cluster-pending-pods',
  area: 'cluster',
  title: 'Runner pods are not stuck Pending, failing to schedule or to pull images',
  description: 'Looks at the runner\'s pods in the namespace: pods Pending longer than poll_timeout, image pull failures (ErrImagePull, ImagePullBackOff, and image-pull warning events of the last hour, also of pods already gone) and recent FailedScheduling warnings are what jobs that "timed out waiting for pod to start" leave behind.',
  severity: 'warn',
  needs: ['pods', 'events'],
  catalog: ['job-failed-system-failure-timed-out-waiting-for-pod-to-start', 'image-pull-failed', 'scheduling-failed'],
  run: ({ facts, config, runner }) => {
    const k = kube(runner)
    const timeout = (typeof k.poll_timeout === 'number' && k.poll_timeout > 0 ? k.poll_timeout : 180) * 1000
    const now = Date.parse(facts.now?.ok ? facts.now.value.time : new Date().toISOString())
    const pods = (facts.pods!.ok ? facts.pods!.value : []).filter((p) => p.labels['job.runner.gitlab.com/pod'] || p.name.startsWith('runner-'))
    const out: FindingInput[] = []
    const at = config.locate([...runner.path, 'kubernetes', 'poll_timeout'])
    // A pull failure is about the image and its credentials, not about how long the runner waits.
    const imageAt = config.locate([...runner.path, 'kubernetes', typeof k.image_pull_secrets !== 'undefined' ? 'image_pull_secrets' : 'image'])
    const pulling = new Set<string>()
    for (const p of pods) {
      const age = p.creationTimestamp ? now - Date.parse(p.creationTimestamp) : 0
      const pulls = p.waiting.filter((w) => w === 'ErrImagePull' || w === 'ImagePullBackOff')
      if (pulls.length) pulling.add(p.name)
      if (pulls.length > 0) out.push({ message: `pod ${p.name} cannot pull an image (${pulls.join(', ')})`, at: imageAt, catalog: ['image-pull-failed'], fix: { text: 'Check the image name and tag, and image_pull_secrets for private registries.' } })
      else if (p.phase === 'Pending' && age > timeout) out.push({ message: `pod ${p.name} has been Pending for ${Math.round(age / 1000)} s, longer than poll_timeout (${timeout / 1000} s)`, at, fix: { text: 'See why it cannot start: kubectl describe pod; raise poll_timeout only if starts are merely slow.' } })
    }
    // Image pull failures the kubelet reported for runner pods within the last hour (also for pods already gone).
    const recent = (e: { lastTimestamp?: string }): boolean => !e.lastTimestamp || now - Date.parse(e.lastTimestamp) <= 3600_000
    const pullEvents = (facts.events!.ok ? facts.events!.value : []).filter((e) => e.involvedObject.startsWith('runner-') && !pulling.has(e.involvedObject) && recent(e) && (['ErrImagePull', 'ImagePullBackOff'].includes(e.reason) || (['Failed', 'BackOff'].includes(e.reason) && /pull/i.test(e.message))))
    const byPod = new Map<string, string>()
    for (const e of pullEvents) if (!byPod.has(e.involvedObject)) byPod.set(e.involvedObject, e.message)
    for (const [pod, message] of byPod) out.push({ message: `pod ${pod} failed to pull an image in the last hour: ${message}`, at: imageAt, catalog: ['image-pull-failed'], fix: { text: 'Check the image name and tag, and image_pull_secrets for private registries.' } })
    const failed = (facts.events!.ok ? facts.events!.value : []).filter((e) => e.reason === 'FailedScheduling' && (e.involvedObject.startsWith('runner-') || e.involvedObject === ''))
    if (failed.length) out.push({ message: `scheduler warnings for runner pods: ${failed[0]!.message}`, at: config.locate([...runner.path, 'kubernetes', 'node_selector']), catalog: ['scheduling-failed'], fix: { text: 'Match node_selector/node_tolerations and requests to a node pool with room.' } })
    return out
  },
})
