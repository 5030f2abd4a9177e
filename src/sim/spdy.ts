/**
 * pods/exec and pods/attach over SPDY/3.1, the transport of client-go's remotecommand (GitLab Runner,
 * kubectl with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, older kubectl): the client POSTs with
 * `Upgrade: SPDY/3.1` and the channel protocols it speaks in `X-Stream-Protocol-Version`; after the 101
 * it opens one SPDY stream per channel (SYN_STREAM whose zlib-compressed headers carry `streamType`:
 * error, stdin, stdout, stderr, resize), each answered with a SYN_REPLY; bytes travel in DATA frames,
 * a FIN flag half-closes a stream (the end of stdin), and the final Status is JSON on the error stream.
 * Only what remotecommand uses is implemented; flow control is not enforced (neither side of
 * remotecommand relies on it), PING is answered.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import zlib from 'node:zlib'
import type { SessionIO } from './exec.js'

/** Channel protocols the simulator speaks over SPDY, best first (the framing is the same for both). */
export const SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io']

/**
 * The SPDY/3 header-compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): a list of
 * length-prefixed header names and values, then a block of common status lines, dates and types.
 */
const WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow',
  'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
  'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after',
  'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK',
  'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
]
const TAIL = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
  + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found'
  + '500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 '
  + 'Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,'
  + 'text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.'

export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...WORDS.map((w) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(w.length)
    return Buffer.concat([len, Buffer.from(w, 'latin1')])
  }),
  Buffer.from(TAIL, 'latin1'),
])

const SYN_STREAM = 1
const SYN_REPLY = 2
const RST_STREAM = 3
const PING = 6
const GOAWAY = 7
const FLAG_FIN = 0x01
const MAX_DATA = 0x4000

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt16BE(0x8000 | 3, 0)
  head.writeUInt16BE(type, 2)
  head.writeUInt32BE(payload.length, 4)
  head[4] = flags
  return Buffer.concat([head, payload])
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(streamId & 0x7fffffff, 0)
  head.writeUInt32BE(data.length, 4)
  head[4] = flags
  return Buffer.concat([head, data])
}

/** A SPDY/3 name/value header block (before compression). */
export function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = []
  const n = Buffer.alloc(4)
  n.writeUInt32BE(Object.keys(headers).length)
  parts.push(n)
  for (const [k, v] of Object.entries(headers)) {
    for (const s of [k.toLowerCase(), v]) {
      const b = Buffer.from(s, 'utf8')
      const len = Buffer.alloc(4)
      len.writeUInt32BE(b.length)
      parts.push(len, b)
    }
  }
  return Buffer.concat(parts)
}

export function parseHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let at = 0
  const take = (): Buffer => {
    const len = block.readUInt32BE(at)
    const b = block.subarray(at + 4, at + 4 + len)
    if (b.length !== len) throw new Error('truncated SPDY header block')
    at += 4 + len
    return b
  }
  const count = block.readUInt32BE(0)
  at = 4
  for (let i = 0; i < count; i++) {
    const k = take().toString('utf8').toLowerCase()
    out[k] = take().toString('utf8')
  }
  return out
}

/**
 * SPDY/3 header compression: one zlib stream per direction for the whole session, every header block
 * continuing it. Inflating: the blocks received so far are inflated again as one stream and the new
 * part of the output is this block's (sessions carry a handful of small blocks). Deflating: each
 * block goes out as a stored (uncompressed) deflate block, which keeps the stream byte-aligned as a
 * sync flush does (and an empty stored block follows, the sync flush marker); the first one carries the zlib header, without a preset dictionary.
 */
export function headerCodec(): { inflate(b: Buffer): Buffer; deflate(b: Buffer): Buffer } {
  let received = Buffer.alloc(0)
  let inflated = 0
  let sent = false
  return {
    inflate: (b) => {
      received = Buffer.concat([received, b])
      const all = zlib.inflateSync(received, { dictionary: SPDY_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH })
      const out = all.subarray(inflated)
      inflated = all.length
      return out
    },
    deflate: (b) => {
      const parts: Buffer[] = sent ? [] : [Buffer.from([0x78, 0x01])]
      sent = true
      for (let i = 0; i === 0 || i < b.length; i += 0xffff) {
        const chunk = b.subarray(i, i + 0xffff)
        const head = Buffer.alloc(5)
        head.writeUInt16LE(chunk.length, 1)
        head.writeUInt16LE(~chunk.length & 0xffff, 3)
        parts.push(head, chunk)
      }
      // An empty stored block ends it, as a sync flush does: inflaters hand out the data only then.
      parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]))
      return Buffer.concat(parts)
    },
  }
}

/** The protocol the client offered first among those the simulator speaks, or undefined. */
export function negotiate(req: IncomingMessage): string | undefined {
  const raw = req.headers['x-stream-protocol-version']
  const offered = (Array.isArray(raw) ? raw : [raw ?? '']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
  return offered.find((p) => SPDY_PROTOCOLS.includes(p))
}

export interface SpdyStreams {
  stdin: boolean
  stdout: boolean
  stderr: boolean
  tty: boolean
}

/**
 * Completes the upgrade (101 with the negotiated protocol) and runs the session once the client has
 * opened every stream the request asked for.
 */
export function acceptSpdy(socket: Duplex, head: Buffer, protocol: string, want: SpdyStreams, run: (io: SessionIO) => void): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`)
  const codec = headerCodec()
  const ids = new Map<string, number>()
  let stdinData: (d: Buffer) => void = () => undefined
  let stdinEnd: () => void = () => undefined
  let stdinEnded = false
  const closers: Array<() => void> = []
  let started = false
  let closed = false
  let buf: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0)
  const needed = ['error', ...(want.stdin ? ['stdin'] : []), ...(want.stdout ? ['stdout'] : []), ...(want.stderr && !want.tty ? ['stderr'] : []), ...(want.tty ? ['resize'] : [])]

  const send = (b: Buffer): void => {
    if (!closed && socket.writable) socket.write(b)
  }
  const sendData = (type: string, d: Buffer): void => {
    const id = ids.get(type)
    if (id === undefined) return
    for (let i = 0; i < d.length; i += MAX_DATA) send(dataFrame(id, 0, d.subarray(i, i + MAX_DATA)))
  }
  const endStdin = (): void => {
    if (stdinEnded) return
    stdinEnded = true
    stdinEnd()
  }
  const startWhenReady = (): void => {
    if (started || !needed.every((t) => ids.has(t))) return
    started = true
    run({
      stdout: (d) => sendData('stdout', d),
      stderr: (d) => sendData(want.tty ? 'stdout' : 'stderr', d),
      finish: (status) => {
        sendData('error', Buffer.from(JSON.stringify(status)))
        // Half-close every stream from our side; the client closes the connection once it has the status.
        for (const id of ids.values()) send(dataFrame(id, FLAG_FIN, Buffer.alloc(0)))
      },
      onInput: (data, end) => {
        stdinData = data
        stdinEnd = end
        if (stdinEnded) end()
      },
      onClose: (cb) => closers.push(cb),
    })
  }
  const onFrame = (frame: Buffer): void => {
    const flags = frame[4]!
    const payload = frame.subarray(8)
    if (frame[0]! & 0x80) {
      const type = frame.readUInt16BE(2)
      if (type === SYN_STREAM) {
        const id = payload.readUInt32BE(0) & 0x7fffffff
        const headers = parseHeaderBlock(codec.inflate(payload.subarray(10)))
        const kind = headers.streamtype ?? ''
        ids.set(kind, id)
        const reply = Buffer.alloc(4)
        reply.writeUInt32BE(id)
        send(controlFrame(SYN_REPLY, 0, Buffer.concat([reply, codec.deflate(headerBlock({}))])))
        if (kind === 'stdin' && flags & FLAG_FIN) endStdin()
        startWhenReady()
      } else if (type === PING) send(frame)
      else if (type === GOAWAY) socket.end()
      else if (type === RST_STREAM && (payload.readUInt32BE(0) & 0x7fffffff) === ids.get('stdin')) endStdin()
      // SETTINGS, WINDOW_UPDATE, HEADERS: nothing remotecommand needs from them.
      return
    }
    const id = frame.readUInt32BE(0) & 0x7fffffff
    if (id === ids.get('stdin')) {
      if (payload.length > 0) stdinData(payload)
      if (flags & FLAG_FIN) endStdin()
    }
  }
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    try {
      while (buf.length >= 8) {
        const len = buf.readUInt32BE(4) & 0xffffff
        if (buf.length < 8 + len) break
        const frame = buf.subarray(0, 8 + len)
        buf = buf.subarray(8 + len)
        onFrame(frame)
      }
    } catch {
      // A frame that does not parse (or headers that do not inflate): the session is over, as a real
      // server would end it with a protocol error.
      socket.destroy()
    }
  }
  socket.on('data', onData)
  socket.on('error', () => undefined)
  socket.on('close', () => {
    closed = true
    endStdin()
    for (const c of closers) c()
  })
  if (buf.length > 0) {
    const first = buf
    buf = Buffer.alloc(0)
    onData(first)
  }
}
