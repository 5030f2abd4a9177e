/** Errors worded exactly as the API server words them (Status objects). */
export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure'
  message: string
  reason?: string
  details?: Record<string, unknown>
  code: number
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
    readonly details?: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
  body(): StatusBody {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, ...(this.reason ? { reason: this.reason } : {}), ...(this.details ? { details: this.details } : {}), code: this.code }
  }
}

const det = (name: string | undefined, group: string, kind: string): Record<string, unknown> => ({ ...(name ? { name } : {}), ...(group ? { group } : {}), kind })

export const notFound = (q: string, group: string, plural: string, name: string): StatusError => new StatusError(404, `${q} "${name}" not found`, 'NotFound', det(name, group, plural))
export const alreadyExists = (q: string, group: string, plural: string, name: string): StatusError => new StatusError(409, `${q} "${name}" already exists`, 'AlreadyExists', det(name, group, plural))
export const conflict = (q: string, group: string, plural: string, name: string): StatusError =>
  new StatusError(409, `Operation cannot be fulfilled on ${q} "${name}": the object has been modified; please apply your changes to the latest version and try again`, 'Conflict', det(name, group, plural))
export const forbidden = (q: string, group: string, plural: string, name: string | undefined, why: string): StatusError =>
  new StatusError(403, `${q}${name ? ` "${name}"` : ''} is forbidden: ${why}`, 'Forbidden', det(name, group, plural))
export const invalid = (kind: string, name: string, group: string, causes: Array<{ field: string; message: string; reason: string }>): StatusError =>
  new StatusError(422, `${kind} "${name}" is invalid: ${causes.length === 1 ? `${causes[0]!.field}: ${causes[0]!.message}` : `[${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`}`, 'Invalid', { name, ...(group ? { group } : {}), kind, causes })
export const badRequest = (message: string): StatusError => new StatusError(400, message, 'BadRequest')
export const unauthorized = (): StatusError => new StatusError(401, 'Unauthorized', 'Unauthorized')
export const expired = (message: string): StatusError => new StatusError(410, message, 'Expired')
export const timeoutError = (): StatusError => new StatusError(504, 'Timeout: request did not complete within requested timeout - context deadline exceeded', 'Timeout', {})
export const etcdError = (message: string): StatusError => new StatusError(500, message)
export const internalError = (message: string, cause: string): StatusError => new StatusError(500, `Internal error occurred: ${message}`, 'InternalError', { causes: [{ message: cause }] })
