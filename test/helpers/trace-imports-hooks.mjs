// Module resolution hook (runs on the loader thread): appends each resolved URL to $GKR_TRACE_IMPORTS.
import { appendFileSync } from 'node:fs'
import process from 'node:process'

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  if (process.env.GKR_TRACE_IMPORTS) appendFileSync(process.env.GKR_TRACE_IMPORTS, `${resolved.url}\n`)
  return resolved
}
