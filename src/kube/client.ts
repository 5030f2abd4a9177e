/**
 * The Kubernetes client library, loaded on first use. Importing it costs most of gkr's start-up time
 * (about 0.8 s of 1.2 s), and most invocations never reach a cluster: `--help`, `explain`, `catalog`,
 * `render`, `rbac` without `--check`, `doctor --offline`, `sim`. Everything that talks to a cluster
 * starts from `resolveCluster`, which loads it; code that runs only afterwards uses `k8s()`.
 */
import type * as K8sModule from '@kubernetes/client-node'

type K8s = typeof K8sModule

let loaded: K8s | undefined

export async function loadK8s(): Promise<K8s> {
  loaded ??= await import('./client-node.js')
  return loaded
}

/** The loaded library; a bug (exit 70) when called before `loadK8s()`. */
export function k8s(): K8s {
  if (!loaded) throw new Error('internal: the Kubernetes client library was used before loadK8s()')
  return loaded
}

/** The library if something has loaded it already, else undefined (for code that can do without it). */
export function loadedK8s(): K8s | undefined {
  return loaded
}
