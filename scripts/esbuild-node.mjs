/**
 * What gkr's two bundles (scripts/bundle-client.mjs, scripts/bundle-oclif.mjs) build alike: one ES
 * module for gkr's lowest Node, whitespace and syntax minified (a smaller file parses faster) with
 * identifiers kept (so `--debug` stack traces still name the library's functions), and a `require`
 * for the bundled CommonJS code (Node built-ins, and what it loads by computed paths).
 */
export const NODE_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.18',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
}

export const REQUIRE_BANNER = "import { createRequire as __gkrCreateRequire } from 'node:module'; const require = __gkrCreateRequire(import.meta.url);"
