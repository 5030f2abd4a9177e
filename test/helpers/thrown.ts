import { GkrError } from '../../src/util/errors.js'

/** The GkrError `fn` throws; any other outcome (no throw, another error) fails the test. */
export function thrown(fn: () => unknown): GkrError {
  try {
    fn()
  } catch (err) {
    if (err instanceof GkrError) return err
    throw err
  }
  throw new Error('expected a GkrError')
}
