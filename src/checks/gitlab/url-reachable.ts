import { defineCheck } from '../types.js'

const TLS = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL|gitlab-tls/

export default defineCheck({
  id: 'gitlab-url-reachable',
  area: 'gitlab',
  title: "The runner's GitLab url resolves and answers over TLS",
  description:
    'Sends one GET to the runner\'s `url` (trusting `tls-ca-file` when set). Any HTTP answer proves that DNS, the TCP path and the TLS certificate are fine; no answer means the runner cannot pick up jobs at all.',
  severity: 'fail',
  needs: ['gitlab'],
  catalog: ['gitlab-unreachable'],
  run({ facts, runner, config }) {
    const g = facts.gitlab!.ok ? facts.gitlab!.value : undefined
    if (!g) return []
    if (!g.url) return [{ message: 'the runner has no `url`', at: config.locate([...runner.path, 'url']), fix: { text: 'Set `url` to your GitLab instance.', toml: '[[runners]]\n  url = "https://gitlab.example.com"' } }]
    if (g.reach.status !== undefined) return []
    const code = g.reach.error ?? 'error'
    const tls = TLS.test(code)
    return [
      {
        message: tls
          ? `TLS to ${g.url} failed (${code})${g.caFile ? ` although tls-ca-file = ${g.caFile} is set` : ''}`
          : `${g.url} did not answer (${code}${g.reach.timedOut ? `, after ${g.reach.ms} ms` : ''})`,
        at: config.locate([...runner.path, tls ? 'tls-ca-file' : 'url']),
        details: { code, ms: g.reach.ms },
        fix: tls
          ? {
              text: 'Give the runner the CA bundle that signed the GitLab certificate (Helm: `certsSecretName`).',
              toml: `[[runners]]\n  url = "${g.url}"\n  tls-ca-file = "/etc/gitlab-runner/certs/ca.crt"`,
            }
          : { text: 'Check the host name, DNS, proxies and firewalls between the runner and GitLab.' },
      },
    ]
  },
})
