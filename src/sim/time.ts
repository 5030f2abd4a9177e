/** A time as the API server writes timestamps: RFC 3339 in UTC, whole seconds (`2026-12-04T20:51:29Z`). */
export function rfc3339(t: Date | number = Date.now()): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
