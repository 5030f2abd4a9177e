/**
 * The user and group a container runs as (the runner's getContainerUIDGID): the container's security
 * context, else the pod's, else the job's `image: kubernetes: user: "uid[:gid]"` (or the service's) when
 * allowed_users / allowed_groups admit it. Root (0, 00, -0 …) needs an explicit "0" in the list, even when
 * the list is empty. A refused or unparsable job ID is not an error: the runner logs a warning and leaves
 * the ID unset (the image's own user applies).
 */

export type IdKind = 'user' | 'group'

/** Go's strconv.ParseInt(s, 10, 64) for the IDs of a job (no sign other than one leading -/+). */
function parseId(s: string): number | undefined {
  return /^[-+]?\d+$/.test(s) ? Number(s) : undefined
}

/** The runner's isUserOrGroupAllowed: undefined when allowed, else its error text. */
export function idNotAllowed(id: string, kind: IdKind, allowed: readonly string[]): string | undefined {
  if (id === '') return undefined
  const n = parseId(id)
  if (n === undefined) return `${kind} ${JSON.stringify(id)} is invalid: strconv.ParseInt: parsing ${JSON.stringify(id)}: invalid syntax`
  const listed = allowed.some((a) => parseId(a) === n)
  const list = `[${allowed.join(' ')}]`
  if (n === 0) return listed ? undefined : `${kind} ${JSON.stringify(id)} is not in the allowed list: ${list}`
  if (allowed.length === 0 || listed) return undefined
  return `${kind} ${JSON.stringify(id)} is not in the allowed list: ${list}`
}

export interface JobIdResult {
  id?: number
  warning?: string
}

/** The job's ID for one kind, validated as the runner's parseAndValidateID does. */
export function jobId(value: string, kind: IdKind, allowed: readonly string[], container: string): JobIdResult {
  if (value === '') return {}
  const label = kind === 'user' ? 'UID' : 'GID'
  const field = kind === 'user' ? 'uid' : 'gid'
  const warn = (detail: string): JobIdResult => ({ warning: `Error parsing '${field}' from image options for container ${JSON.stringify(container)}, using the configured security context: ${detail}` })
  const n = parseId(value)
  if (n === undefined) return warn(`failed to parse ${label}: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
  if (n < 0) return warn(`failed to parse ${label}: negative values not allowed`)
  const refused = idNotAllowed(value, kind, allowed)
  if (refused) return warn(`validating ${label}: ${refused}`)
  return { id: Math.abs(n) }
}

/** Splits `uid[:gid]`. */
export function splitUser(user: string): { uid: string; gid: string } {
  const colon = user.indexOf(':')
  return colon < 0 ? { uid: user, gid: '' } : { uid: user.slice(0, colon), gid: user.slice(colon + 1) }
}
