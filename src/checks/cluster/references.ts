import { defineCheck, type FindingInput } from '../types.js'
import type { RenderedJob } from '../../executor/render.js'

export default defineCheck({
  id: 'cluster-references',
  area: 'cluster',
  title: 'Everything the pod refers to exists: service account, pull secrets, volumes and their keys, CSI drivers, runtime and priority classes',
  description: 'A pod that names a service account, image pull secret, Secret/ConfigMap/PVC volume, config map key (volume items), CSI driver, RuntimeClass or PriorityClass that does not exist is rejected or never starts (CreateContainerConfigError, FailedMount), so the job times out waiting for the pod. The keys of secret volumes are not checked: doctor never reads secret data.',
  severity: 'fail',
  needs: ['serviceAccount', 'secrets', 'configMaps', 'pvcs', 'classes'],
  catalog: ['service-account-missing', 'volume-source-missing', 'runtime-class-missing', 'priority-class-missing', 'image-pull-failed'],
  run: ({ facts, config, runner, rendered }) => {
    const r = rendered as RenderedJob | undefined
    const out: FindingInput[] = []
    const at = (key: string) => config.locate([...runner.path, 'kubernetes', key])
    const sa = facts.serviceAccount!.ok ? facts.serviceAccount!.value : null
    if (sa && !sa.exists) out.push({ message: `service account ${sa.name} does not exist in namespace ${r?.namespace}: pods are rejected (error looking up service account)`, at: at('service_account'), catalog: ['service-account-missing'], fix: { text: `Create it, or fix service_account.`, yaml: `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${sa.name}\n  namespace: ${r?.namespace}` } })
    const secrets = new Set((facts.secrets!.ok ? facts.secrets!.value : []).map((s) => s.name))
    const created = new Set((r?.secrets ?? []).map((s) => s.metadata?.name))
    for (const ps of r?.pod.spec?.imagePullSecrets ?? []) {
      if (ps.name && !secrets.has(ps.name) && !created.has(ps.name)) out.push({ message: `image pull secret ${ps.name} does not exist: pulls from private registries fail (ErrImagePull)`, at: at('image_pull_secrets'), catalog: ['image-pull-failed'], fix: { text: `Create the secret (kubectl create secret docker-registry ${ps.name} ...) or remove it from image_pull_secrets.` } })
    }
    const cms = new Set((facts.configMaps!.ok ? facts.configMaps!.value : []).map((c) => c.name))
    const pvcs = new Set((facts.pvcs!.ok ? facts.pvcs!.value : []).map((c) => c.name))
    for (const v of r?.pod.spec?.volumes ?? []) {
      const miss = v.secret && !secrets.has(v.secret.secretName!) ? `secret ${v.secret.secretName}` : v.configMap && !cms.has(v.configMap.name!) ? `configmap ${v.configMap.name}` : v.persistentVolumeClaim && !pvcs.has(v.persistentVolumeClaim.claimName) ? `persistentvolumeclaim ${v.persistentVolumeClaim.claimName}` : undefined
      if (miss) out.push({ message: `volume ${v.name} uses ${miss}, which does not exist: the pod never starts (FailedMount)`, at: at('volumes'), catalog: ['volume-source-missing'], fix: { text: `Create the ${miss.split(' ')[0]} or remove the volume.` } })
    }
    // The keys a configmap volume's items name must exist in it, or the pod never starts.
    const keys = facts.configMapKeys?.ok ? facts.configMapKeys.value : {}
    for (const v of r?.pod.spec?.volumes ?? []) {
      const have = v.configMap?.name ? keys[v.configMap.name] : undefined
      if (!have) continue
      const missing = (v.configMap!.items ?? []).map((i) => i.key).filter((k) => !have.includes(k))
      if (missing.length) out.push({ message: `volume ${v.name} mounts key${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of configmap ${v.configMap!.name}, which has only ${have.length ? have.join(', ') : 'no keys'}: the pod never starts (FailedMount: configmap references non-existent config key)`, at: at('volumes'), catalog: ['volume-source-missing'], fix: { text: `Add the key to configmap ${v.configMap!.name}, or fix items in the volume's config.` }, details: { volume: v.name, configMap: v.configMap!.name, missing } })
    }
    const drivers = facts.csiDrivers?.ok ? facts.csiDrivers.value : undefined
    for (const v of r?.pod.spec?.volumes ?? []) {
      if (!v.csi || !drivers || drivers.includes(v.csi.driver)) continue
      out.push({ message: `volume ${v.name} uses CSI driver ${v.csi.driver || '(none)'}, which is not installed${drivers.length ? ` (installed: ${drivers.join(', ')})` : ''}: the pod never starts (driver name ${v.csi.driver} not found in the list of registered CSI drivers)`, at: at('volumes'), catalog: ['volume-source-missing'], fix: { text: 'Install the CSI driver on the cluster, or fix driver in the volume\'s config (kubectl get csidrivers).' }, details: { volume: v.name, driver: v.csi.driver } })
    }
    const classes = facts.classes!.ok ? facts.classes!.value : {}
    if (classes.runtimeClass && !classes.runtimeClass.exists) out.push({ message: `runtime class ${classes.runtimeClass.name} does not exist: pods are rejected`, at: at('runtime_class_name'), catalog: ['runtime-class-missing'], fix: { text: 'Use an existing RuntimeClass (kubectl get runtimeclass) or remove runtime_class_name.' } })
    if (classes.priorityClass && !classes.priorityClass.exists) out.push({ message: `priority class ${classes.priorityClass.name} does not exist: pods are rejected (no PriorityClass with name ${classes.priorityClass.name} was found)`, at: at('priority_class_name'), catalog: ['priority-class-missing'], fix: { text: 'Use an existing PriorityClass (kubectl get priorityclass) or remove priority_class_name.' } })
    return out
  },
})
