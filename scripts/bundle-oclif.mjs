/**
 * Part of `npm run build`, after tsc: @oclif/core bundled into one ES module, and every import of
 * '@oclif/core' under dist/ pointed at it. The package is CommonJS spread over about 150 files (its own
 * and its dependencies'); resolving, reading and compiling them one by one was the largest part of
 * every command's start-up after Node's own (about 85 ms of `gkr explain FILE`'s 270 ms, measured with
 * --cpu-prof). One file of the same code loads in about half the time.
 *
 * The bundle lives at dist/vendor/oclif-core/lib/index.js with a package.json beside lib/ carrying the
 * package's name and version, because oclif reads its own version from `../package.json` relative to
 * its code. `require`, `__filename` and `__dirname` are provided for the bundled CommonJS code (it
 * loads plugins and tsconfig files by computed paths). Identifiers are kept, so `--debug` stack traces
 * still name oclif's functions.
 *
 * Only gkr's own code uses the bundle. The plugins gkr lists (@oclif/plugin-help, -autocomplete) import
 * the installed package when one of their commands runs; nothing is shared between the two copies but
 * plain data (the Config they are handed), which oclif reads by duck typing.
 */
import { build } from 'esbuild'
import { NODE_BUNDLE, REQUIRE_BANNER } from './esbuild-node.mjs'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const vendor = path.join(dist, 'vendor', 'oclif-core')
const outfile = path.join(vendor, 'lib', 'index.js')
const require = createRequire(import.meta.url)
const corePkgFile = require.resolve('@oclif/core/package.json')
const corePkg = JSON.parse(readFileSync(corePkgFile, 'utf8'))
const coreMain = path.join(path.dirname(corePkgFile), 'lib', 'index.js')

// An ES module entry that names every export of the CommonJS index (esbuild cannot list them
// statically), so `import { Command, Flags } from …` keeps working against the bundle.
const names = Object.keys(require(coreMain)).filter((n) => n !== 'default' && n !== '__esModule')
if (!names.includes('Command') || !names.includes('execute')) throw new Error(`@oclif/core ${corePkg.version}: unexpected exports ${names.join(', ')}`)
const entry = `import core from ${JSON.stringify(coreMain)}\nexport const { ${names.join(', ')} } = core\nexport default core\n`

mkdirSync(path.dirname(outfile), { recursive: true })
await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'oclif-core-entry.mjs', loader: 'js' },
  outfile,
  ...NODE_BUNDLE,
  // Loaded only when a CLI runs from TypeScript sources in development, which gkr's dist never does.
  external: ['ts-node', 'typescript'],
  banner: {
    js: [
      REQUIRE_BANNER,
      "import { fileURLToPath as __gkrFileURLToPath } from 'node:url';",
      "import { dirname as __gkrDirname } from 'node:path';",
      'const __filename = __gkrFileURLToPath(import.meta.url);',
      'const __dirname = __gkrDirname(__filename);',
    ].join(' '),
  },
})
writeFileSync(path.join(vendor, 'package.json'), `${JSON.stringify({ name: corePkg.name, version: corePkg.version, type: 'module', private: true, license: corePkg.license }, null, 2)}\n`)

// Every compiled file of gkr that imports '@oclif/core' imports the bundle instead.
let rewritten = 0
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) {
      if (p !== path.join(dist, 'vendor')) walk(p)
    } else if (e.name.endsWith('.js')) {
      const text = readFileSync(p, 'utf8')
      if (!text.includes("'@oclif/core'")) continue
      let rel = path.relative(path.dirname(p), outfile).split(path.sep).join('/')
      if (!rel.startsWith('.')) rel = `./${rel}`
      writeFileSync(p, text.replace(/(from\s*|import\s*\(\s*)'@oclif\/core'/g, `$1'${rel}'`))
      rewritten++
    }
  }
}
walk(dist)
process.stdout.write(`dist/vendor/oclif-core: @oclif/core ${corePkg.version} bundled, ${(statSync(outfile).size / 1e6).toFixed(1)} MB; ${rewritten} files import it\n`)
