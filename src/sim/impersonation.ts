/**
 * The impersonation headers as the API server's impersonation filter reads them: `Impersonate-User`,
 * one `Impersonate-Group` line per group, `Impersonate-Uid` and `Impersonate-Extra-<key>` (the key
 * lower-cased and %-unescaped, one value per line). Asking for groups, a uid or extras without a user
 * is refused before any authorization, with a 500 whose message lists what was asked for as Go prints
 * the filter's ObjectReferences (`requested [{Group  devs    }] without impersonating a user`).
 */
import type { IncomingMessage } from 'node:http'
import { internalError } from './status.js'

export interface ImpersonationHeaders {
  user: string
  groups: string[]
  uid?: string
  extras: Array<[key: string, value: string]>
}

const AUTHN_V1 = 'authentication.k8s.io/v1'
/** Go's %v of a v1.ObjectReference: Kind, Namespace, Name, UID, APIVersion, ResourceVersion, FieldPath. */
const ref = (kind: string, name: string, apiVersion = '', fieldPath = ''): string => `{${[kind, '', name, '', apiVersion, '', fieldPath].join(' ')}}`

function unescapeKey(key: string): string {
  try {
    return decodeURIComponent(key)
  } catch {
    return key
  }
}

/** What the request asks to impersonate, or undefined when it has no impersonation header. */
export function impersonationHeaders(req: IncomingMessage): ImpersonationHeaders | undefined {
  const user = req.headersDistinct['impersonate-user']?.[0] ?? ''
  const groups = req.headersDistinct['impersonate-group'] ?? []
  const uid = req.headersDistinct['impersonate-uid']?.[0] ?? ''
  const extras: Array<[string, string]> = []
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!name.startsWith('impersonate-extra-') || !values) continue
    const key = unescapeKey(name.slice('impersonate-extra-'.length).toLowerCase())
    for (const v of values) extras.push([key, v])
  }
  if (!user && groups.length === 0 && !uid && extras.length === 0) return undefined
  if (!user) {
    const refs = [
      ...groups.map((g) => ref('Group', g)),
      ...extras.map(([k, v]) => ref('UserExtra', v, AUTHN_V1, k)),
      ...(uid ? [ref('UID', uid, AUTHN_V1)] : []),
    ]
    const message = `requested [${refs.join(' ')}] without impersonating a user`
    throw internalError(message, message)
  }
  return { user, groups, ...(uid ? { uid } : {}), extras }
}
