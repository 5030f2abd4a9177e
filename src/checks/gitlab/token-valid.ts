import { defineCheck } from '../types.js'

export default defineCheck({
  id: 'gitlab-token-valid',
  area: 'gitlab',
  title: 'GitLab accepts the runner token',
  description:
    'Calls `POST /api/v4/runners/verify` with the runner token (never printed). 403 means the runner was deleted, its token was reset, or the config holds a registration token instead of an authentication token.',
  severity: 'fail',
  needs: ['gitlab'],
  catalog: ['runner-token-invalid'],
  run({ facts, runner, config }) {
    const g = facts.gitlab!.ok ? facts.gitlab!.value : undefined
    if (!g || g.reach.status === undefined) return { skipped: 'GitLab did not answer (see gitlab-url-reachable)' }
    if (!g.verify) return { skipped: 'the runner has no token to verify' }
    const at = config.locate([...runner.path, 'token'])
    const { status } = g.verify
    if (status === 200) return []
    if (status === 401 || status === 403) {
      return [
        {
          message: `GitLab rejected the runner token (HTTP ${status})`,
          at,
          details: { status },
          fix: { text: 'Create the runner again in GitLab (or reset its token) and store the new authentication token (glrt-…) in `token`.', toml: '[[runners]]\n  token = "glrt-…"' },
        },
      ]
    }
    return [{ message: `runner token verification answered ${status ?? g.verify.error ?? 'nothing'}`, severity: 'warn', at, details: { status, error: g.verify.error } }]
  },
})
