import type { Check } from '../types.js'

/** Checks of the GitLab side: the runner's url answers over TLS, its token is valid, job requests don't hang. */
export const gitlabChecks: readonly Check[] = []
