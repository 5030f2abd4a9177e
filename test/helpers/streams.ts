import { Writable } from 'node:stream'

/** A writable that keeps everything written to it as text, in `text`. */
export function textSink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      w.text += chunk.toString()
      cb()
    },
  }) as Writable & { text: string }
  w.text = ''
  return w
}
