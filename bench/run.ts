/**
 * `npm run bench`: runs every bench/*.bench.ts in turn and prints their figures.
 * Benchmarks measure speed; tests never time things.
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const dir = path.dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
for (const f of files) {
  console.log(`\n== ${f}`)
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default?: () => Promise<void> }
  if (typeof mod.default === 'function') await mod.default()
}
