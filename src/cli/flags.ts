import { Flags } from '@oclif/core'

/** The runner configuration flags every config-reading command shares. */
export const configFlags = {
  config: Flags.string({ char: 'c', description: 'The runner config.toml or Helm values.yaml (default: $GKR_CONFIG, then the runner\'s own default paths).' }),
  runner: Flags.string({ description: 'Check only the [[runners]] entry with this name (default: every Kubernetes runner).' }),
}

/** kubectl's connection flags. */
export const clusterFlags = {
  kubeconfig: Flags.string({ description: 'Path to the kubeconfig file (default: $KUBECONFIG; otherwise in-cluster configuration in a pod, then ~/.kube/config).' }),
  context: Flags.string({ description: 'The kubeconfig context to use.' }),
  namespace: Flags.string({ char: 'n', description: 'The namespace jobs run in (default: the config\'s namespace).' }),
  as: Flags.string({ description: 'Check as this identity, e.g. system:serviceaccount:NS:NAME (impersonation).' }),
}

export function splitList(v: string | undefined): string[] | undefined {
  if (!v) return undefined
  const items = v.split(',').map((s) => s.trim()).filter(Boolean)
  return items.length > 0 ? items : undefined
}
