// Preloaded with `node --import` by test/cli/startup.test.ts: records every module URL the process
// resolves into the file named by GKR_TRACE_IMPORTS, so a test can assert what start-up loads.
import { register } from 'node:module'

register('./trace-imports-hooks.mjs', import.meta.url)
