import { defineCheck } from '../types.js'
import { atKube, k8s, str, tomlFix } from './util.js'
import { isWindowsRunner } from './windows.js'

export default defineCheck({
  id: 'config-helper-alpine-dns',
  area: 'config',
  title: 'The helper image flavor and its DNS resolver',
  description: "The default alpine helper image uses musl's DNS resolver, which handles some cluster DNS setups (search domains, ndots, TCP fallback) differently from glibc; jobs can then fail to fetch sources with \"Could not resolve host\". The ubuntu flavor avoids that. Runners on Windows nodes are left out: they use the servercore helper image, whatever the flavor says.",
  severity: 'info',
  needs: [],
  catalog: ['error-could-not-resolve-host-examplecom'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const flavor = str(kc.helper_image_flavor) ?? 'alpine'
    // On Windows nodes the helper image is servercore and the flavor is ignored: there is no musl resolver.
    if (str(kc.helper_image) || !flavor.startsWith('alpine') || isWindowsRunner(kc)) return []
    return [{ message: `helper_image_flavor is ${str(kc.helper_image_flavor) ? `"${flavor}"` : 'the default (alpine)'}: if jobs fail with "Could not resolve host" while the cluster DNS works, switch to the ubuntu flavor`, at: atKube(ctx, 'helper_image_flavor'), fix: { text: 'Use the ubuntu helper image flavor.', toml: tomlFix(ctx, 'runners.kubernetes', { helper_image_flavor: 'ubuntu' }) } }]
  },
})
