/**
 * A YAML file read one document at a time: the text is fed to the `yaml` package's Parser in 1 MB
 * chunks and its Composer hands over each document once it is complete, so a scenario of 200 MB
 * never has its text, its syntax tree or its objects in memory all at once.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { Composer, LineCounter, Parser, type Document } from 'yaml'

const CHUNK = 1 << 20

export interface StreamedDocument {
  doc: Document.Parsed
  /** Its position in the file, from 0. */
  index: number
  lines: LineCounter
}

/** The documents of a YAML file, in order; stops reading when the caller stops iterating. */
export function* yamlDocuments(file: string): Generator<StreamedDocument> {
  const lines = new LineCounter()
  const parser = new Parser(lines.addNewLine)
  const composer = new Composer({ prettyErrors: false })
  const fd = openSync(file, 'r')
  const decoder = new StringDecoder('utf8')
  const buf = Buffer.alloc(CHUNK)
  let index = 0
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null)
      const text = n > 0 ? decoder.write(buf.subarray(0, n)) : decoder.end()
      for (const token of parser.parse(text, n > 0)) for (const doc of composer.next(token)) yield { doc, index: index++, lines }
      if (n === 0) break
    }
    for (const doc of composer.end()) yield { doc, index: index++, lines }
  } finally {
    closeSync(fd)
  }
}
