/**
 * The PodSecurity admission plugin's configuration (`PodSecurityConfiguration`,
 * pod-security.admission.config.k8s.io/v1) as a scenario gives it in `knobs.podSecurity`: `defaults`
 * (the level and version of each mode where a namespace has no label; the plugin's own default is
 * `privileged:latest`) and `exemptions` (requests by these usernames, pods with these
 * runtimeClassNames, and every pod in these namespaces are not evaluated at all). An exempt request
 * is recorded with the audit annotation `pod-security.kubernetes.io/exempt` (`namespace`, `user` or
 * `runtimeClass`), as the plugin records it.
 */
export interface PodSecurityConfig {
  defaults?: Partial<Record<'enforce' | 'enforce-version' | 'warn' | 'warn-version' | 'audit' | 'audit-version', string>>
  exemptions?: { usernames?: string[]; runtimeClasses?: string[]; namespaces?: string[] }
}

export type Exemption = 'namespace' | 'user' | 'runtimeClass'

/** Why the plugin does not evaluate this request, in the order it asks: namespace, user, runtime class. */
export function exemptionOf(config: PodSecurityConfig | undefined, req: { namespace?: string; username?: string; runtimeClassName?: unknown }): Exemption | undefined {
  const ex = config?.exemptions
  if (!ex) return undefined
  if (req.namespace && ex.namespaces?.includes(req.namespace)) return 'namespace'
  if (req.username && ex.usernames?.includes(req.username)) return 'user'
  if (typeof req.runtimeClassName === 'string' && ex.runtimeClasses?.includes(req.runtimeClassName)) return 'runtimeClass'
  return undefined
}

/** The namespace labels with the configured defaults filled in where a label is missing. */
export function withDefaults(labels: Record<string, string> | undefined, config: PodSecurityConfig | undefined): Record<string, string> | undefined {
  const defaults = config?.defaults
  if (!defaults) return labels
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(defaults)) if (typeof v === 'string') out[`pod-security.kubernetes.io/${k}`] = v
  return { ...out, ...labels }
}
