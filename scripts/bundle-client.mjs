/**
 * Part of `npm run build`, after tsc: replaces dist/kube/client-node.js (a bare re-export of
 * @kubernetes/client-node) with the package and its dependencies bundled into one ES module by esbuild.
 * Loading the package file by file is most of the start-up of every command that talks to a cluster:
 * about 1,400 modules to resolve, read and link. One file of the same code loads in a third of the
 * time (bench/startup.bench.ts). Whitespace and syntax are minified (a smaller file parses faster);
 * identifiers are kept, so `--debug` stack traces still name the library's functions.
 * Node built-ins stay imports; the bundled CommonJS dependencies get a `require` for them (and for the
 * optional native helpers `ws` tries to load, which are absent and caught).
 */
import { build } from 'esbuild'
import { NODE_BUNDLE, REQUIRE_BANNER } from './esbuild-node.mjs'
import { statSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const outfile = path.join(root, 'dist', 'kube', 'client-node.js')
statSync(outfile) // tsc must have written the module this replaces
await build({
  entryPoints: [path.join(root, 'src', 'kube', 'client-node.ts')],
  outfile,
  allowOverwrite: true,
  ...NODE_BUNDLE,
  banner: { js: REQUIRE_BANNER },
})
process.stdout.write(`dist/kube/client-node.js: @kubernetes/client-node bundled, ${(statSync(outfile).size / 1e6).toFixed(1)} MB\n`)
