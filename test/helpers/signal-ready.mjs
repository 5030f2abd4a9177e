// Preloaded with `node --import` by tests that signal gkr during start-up: writes "ready\n" to fd 3 the
// moment the process installs its first listener for $GKR_READY_SIGNAL, so a test signals exactly then
// (no sleeping, no guessing how long start-up takes).
import { writeSync } from 'node:fs'
import process from 'node:process'

const wanted = process.env.GKR_READY_SIGNAL
let told = false
process.on('newListener', (event) => {
  if (event !== wanted || told) return
  told = true
  // After this listener is added (newListener fires just before), the signal is caught.
  process.nextTick(() => writeSync(3, 'ready\n'))
})
