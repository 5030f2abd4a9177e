import type { Check } from '../types.js'
import urlReachable from './url-reachable.js'
import tokenValid from './token-valid.js'
import jobRequest from './job-request.js'

/** Checks of the GitLab side: the runner's url answers over TLS, its token is valid, job requests don't hang. */
export const gitlabChecks: readonly Check[] = [urlReachable, tokenValid, jobRequest]
