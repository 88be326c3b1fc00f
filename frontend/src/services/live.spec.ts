import { describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { FakeEventStream } from '../test-utils'
import {
  HEALTHY_STREAM_MS,
  LiveConnection,
  parseSse,
  toNotice,
  type LiveDeps,
  type Notice,
  type SseMessage,
} from './live'

/** Parses `chunks` one after the other, as the connection does. */
function parseChunks(chunks: string[]): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = []
  let rest = ''
  for (const chunk of chunks) {
    const parsed = parseSse(rest + chunk)
    messages.push(...parsed.messages)
    rest = parsed.rest
  }
  return { messages, rest }
}

const STREAM = [
  'event: ready\ndata: {}\n\n',
  ': keep-alive\n\n',
  'event: DocumentClassified\ndata: {"type":"DocumentClassified","document_id":"d1","topics":["t1"],"token":"7.42"}\n\n',
  ':\n',
  'event: ClassificationFailed\r\ndata: {"type":"ClassificationFailed",\r\ndata: "error":"binary data declared as text","token":"7.43"}\r\n\r\n',
  'event: resync\rdata: {}\r\r',
].join('')

const EXPECTED: SseMessage[] = [
  { event: 'ready', data: '{}' },
  {
    event: 'DocumentClassified',
    data: '{"type":"DocumentClassified","document_id":"d1","topics":["t1"],"token":"7.42"}',
  },
  {
    event: 'ClassificationFailed',
    data: '{"type":"ClassificationFailed",\n"error":"binary data declared as text","token":"7.43"}',
  },
  { event: 'resync', data: '{}' },
]

describe('parseSse', () => {
  it('reads events, data and comments, with LF, CRLF and CR line ends', () => {
    expect(parseSse(STREAM)).toEqual({ messages: EXPECTED, rest: '' })
  })

  it('gives the same messages however the text is split into two chunks', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const parsed = parseChunks([STREAM.slice(0, cut), STREAM.slice(cut)])
      expect(parsed, `cut at ${cut}`).toEqual({ messages: EXPECTED, rest: '' })
    }
  })

  it('gives the same messages when the text comes one character at a time', () => {
    expect(parseChunks([...STREAM])).toEqual({ messages: EXPECTED, rest: '' })
  })

  it('keeps an unfinished message for the next chunk', () => {
    expect(parseSse('event: ready\ndata: {}\n')).toEqual({ messages: [], rest: 'event: ready\ndata: {}\n' })
    expect(parseSse('event: ready\ndata: {')).toEqual({ messages: [], rest: 'event: ready\ndata: {' })
  })

  it('reads a CRLF split across chunks as one line end', () => {
    // Inside a message: the CR stays in the rest, and the LF completes it.
    expect(parseChunks(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual({
      messages: [{ event: 'message', data: 'a\nb' }],
      rest: '',
    })
    // Ending a message: it is out at once, and the LF that follows adds nothing.
    expect(parseChunks(['data: a\r\n\r', '\ndata: b\r\n\r\n'])).toEqual({
      messages: [
        { event: 'message', data: 'a' },
        { event: 'message', data: 'b' },
      ],
      rest: '',
    })
  })

  it('joins data lines with LF, drops one space after the colon, and ignores other fields', () => {
    const text = 'id: 7\nretry: 10\ndata:no space\ndata:  two spaces\ndata\nweird: field\n\n'
    expect(parseSse(text).messages).toEqual([{ event: 'message', data: 'no space\n two spaces\n' }])
  })

  it('makes no message of comments alone, or of blank lines', () => {
    expect(parseSse(':\n\n: ping\n\n\n\n')).toEqual({ messages: [], rest: '' })
  })
})

describe('toNotice', () => {
  it('reads a notice, keeping what it knows', () => {
    const notice = toNotice({
      event: 'DocumentClassified',
      data: JSON.stringify({
        type: 'DocumentClassified',
        document_id: 'd1',
        classification: 'classified',
        topics: ['t1', 7, 't2'],
        token: '12.3',
        extra: true,
      }),
    })
    expect(notice).toEqual({
      type: 'DocumentClassified',
      document_id: 'd1',
      classification: 'classified',
      topics: ['t1', 't2'],
      token: '12.3',
    })
  })

  it('takes the type from the event when the data has none, and drops an unknown classification', () => {
    expect(toNotice({ event: 'ShareGranted', data: '{"share_id":"s1","classification":"odd","token":"1.2"}' })).toEqual({
      type: 'ShareGranted',
      share_id: 's1',
      token: '1.2',
    })
  })

  it('ignores what is not a notice', () => {
    expect(toNotice({ event: 'x', data: 'not json' })).toBeNull()
    expect(toNotice({ event: 'x', data: '[1]' })).toBeNull()
    expect(toNotice({ event: 'x', data: '{"type":"ShareGranted"}' })).toBeNull()
  })
})

interface Attempt {
  path: string
  init: RequestInit
  stream?: FakeEventStream
}

type Answer = FakeEventStream | Error | { status: number }

/** A LiveConnection whose server a test scripts: each fetch takes the next answer. */
function harness(answers: Array<Answer | ((signal: AbortSignal) => Answer)> = []) {
  const attempts: Attempt[] = []
  let clock = 0
  const deps = {
    token: 'at-1' as string | null,
    fetch: vi.fn(async (path: string, init: RequestInit): Promise<Response> => {
      const attempt: Attempt = { path, init }
      attempts.push(attempt)
      const next = answers.shift()
      const signal = init.signal!
      if (next === undefined) {
        // Nothing more scripted: the request hangs until aborted.
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
        })
      }
      const answer = typeof next === 'function' ? next(signal) : next
      if (answer instanceof Error) throw answer
      if (answer instanceof FakeEventStream) {
        attempt.stream = answer
        signal.addEventListener('abort', () => answer.fail(new DOMException('aborted', 'AbortError')))
        return answer.response
      }
      return new Response(JSON.stringify({ code: 'x', message: 'x' }), { status: answer.status })
    }),
    refresh: vi.fn(async () => {
      deps.token = 'at-2'
      return true
    }),
    waits: [] as number[],
    noteToken: vi.fn(),
  }
  const connection = new LiveConnection({
    fetch: deps.fetch,
    accessToken: () => deps.token,
    refresh: deps.refresh,
    wait: async (ms) => {
      deps.waits.push(ms)
    },
    now: () => clock,
    noteToken: deps.noteToken,
  } satisfies LiveDeps)
  const notices: Notice[] = []
  const resyncs = vi.fn()
  connection.onNotice((notice) => notices.push(notice))
  connection.onResync(resyncs)
  return {
    connection,
    deps,
    attempts,
    notices,
    resyncs,
    advance(ms: number) {
      clock += ms
    },
  }
}

function header(attempt: Attempt | undefined, name: string): string | undefined {
  return (attempt?.init.headers as Record<string, string> | undefined)?.[name]
}

const CLASSIFIED = {
  type: 'DocumentClassified',
  document_id: 'd1',
  classification: 'classified',
  topics: ['t1'],
  token: '9.1',
}

describe('LiveConnection', () => {
  it('reads the stream with the token in a header, and hands notices to its listeners', async () => {
    const stream = new FakeEventStream()
    const live = harness([stream])
    const late: Notice[] = []
    const stopListening = live.connection.onNotice((notice) => late.push(notice))

    live.connection.start()
    live.connection.start()
    await flushPromises()

    expect(live.attempts).toHaveLength(1)
    expect(live.attempts[0]!.path).toBe('/api/events')
    expect(header(live.attempts[0], 'Authorization')).toBe('Bearer at-1')
    expect(header(live.attempts[0], 'Accept')).toBe('text/event-stream')
    expect(live.connection.state).toBe('connecting')

    stream.send('event: ready\ndata: {}\n\n: keep-alive\n\n')
    await flushPromises()
    expect(live.connection.state).toBe('open')
    expect(live.resyncs).not.toHaveBeenCalled()

    // One event over three chunks, split inside a two-byte character of its reason.
    const bytes = new TextEncoder().encode(
      'event: ClassificationFailed\ndata: {"type":"ClassificationFailed","document_id":"d2","classification":"failed","error":"Café menu is not text","token":"9.2"}\n\n',
    )
    const cut = bytes.indexOf(0xc3) + 1
    stream.bytes(bytes.slice(0, 20))
    stream.bytes(bytes.slice(20, cut))
    await flushPromises()
    expect(live.notices).toEqual([])
    stream.bytes(bytes.slice(cut))
    stream.event('DocumentClassified', CLASSIFIED)
    await flushPromises()

    expect(live.notices).toEqual([
      {
        type: 'ClassificationFailed',
        document_id: 'd2',
        classification: 'failed',
        error: 'Café menu is not text',
        token: '9.2',
      },
      CLASSIFIED,
    ])
    expect(late).toHaveLength(2)
    expect(live.deps.noteToken).toHaveBeenCalledWith('9.2')
    expect(live.deps.noteToken).toHaveBeenCalledWith('9.1')

    stopListening()
    stream.event('DocumentClassified', { ...CLASSIFIED, token: '9.3' })
    stream.send('event: resync\ndata: {}\n\n')
    await flushPromises()
    expect(live.notices).toHaveLength(3)
    expect(late).toHaveLength(2)
    expect(live.resyncs).toHaveBeenCalledTimes(1)
    live.connection.stop()
  })

  it('reconnects at once when a stream that lived a while ends, and says notices may have been missed', async () => {
    const first = new FakeEventStream()
    const second = new FakeEventStream()
    const live = harness([first, second])
    live.connection.start()
    await flushPromises()
    first.send('event: ready\ndata: {}\n\n')
    await flushPromises()

    live.advance(HEALTHY_STREAM_MS)
    first.end()
    await flushPromises()

    expect(live.attempts).toHaveLength(2)
    expect(live.deps.waits).toEqual([])
    expect(live.resyncs).not.toHaveBeenCalled()
    second.send('event: ready\ndata: {}\n\n')
    await flushPromises()
    expect(live.resyncs).toHaveBeenCalledTimes(1)
    live.connection.stop()
  })

  it('backs off after errors (1 s, 2 s, 5 s, then 10 s), never in a tight loop, and resets once connected', async () => {
    const short = new FakeEventStream()
    const healthy = new FakeEventStream()
    const live = harness([
      new TypeError('offline'),
      { status: 503 },
      short,
      new TypeError('offline'),
      new TypeError('offline'),
      healthy,
      new TypeError('offline'),
    ])
    // A stream that ends soon after `ready` counts as an error too.
    short.send('event: ready\ndata: {}\n\n')
    short.end()
    live.connection.start()
    await flushPromises()

    expect(live.attempts).toHaveLength(6)
    expect(live.deps.waits).toEqual([1_000, 2_000, 5_000, 10_000, 10_000])

    healthy.send('event: ready\ndata: {}\n\n')
    await flushPromises()
    live.advance(HEALTHY_STREAM_MS)
    healthy.fail()
    await flushPromises()
    // Dropped after a healthy while: again at once, and the next error pauses a second, not ten.
    expect(live.deps.waits).toEqual([1_000, 2_000, 5_000, 10_000, 10_000, 1_000])
    expect(live.attempts).toHaveLength(8)
    live.connection.stop()
  })

  it('refreshes the session on a 401 and reconnects with the new token', async () => {
    const stream = new FakeEventStream()
    const live = harness([{ status: 401 }, stream])
    live.connection.start()
    await flushPromises()

    expect(live.deps.refresh).toHaveBeenCalledTimes(1)
    expect(live.attempts).toHaveLength(2)
    expect(header(live.attempts[0], 'Authorization')).toBe('Bearer at-1')
    expect(header(live.attempts[1], 'Authorization')).toBe('Bearer at-2')
    expect(live.deps.waits).toEqual([])
    live.connection.stop()
  })

  it('pauses when a refreshed token is refused again, rather than refreshing in a loop', async () => {
    const live = harness([{ status: 401 }, { status: 401 }, { status: 401 }])
    live.connection.start()
    await flushPromises()

    expect(live.attempts).toHaveLength(4)
    expect(live.deps.refresh).toHaveBeenCalledTimes(3)
    expect(live.deps.waits).toEqual([1_000, 2_000])
    live.connection.stop()
  })

  it('stops when the refresh says the session is over (signed out)', async () => {
    const live = harness([{ status: 401 }])
    live.deps.refresh.mockImplementation(async () => {
      live.deps.token = null
      return false
    })
    live.connection.start()
    await flushPromises()

    expect(live.attempts).toHaveLength(1)
    expect(live.connection.state).toBe('stopped')
    // Started again (signed in again), it connects again.
    live.deps.token = 'at-3'
    live.connection.start()
    await flushPromises()
    expect(live.attempts).toHaveLength(2)
    expect(header(live.attempts[1], 'Authorization')).toBe('Bearer at-3')
    live.connection.stop()
  })

  it('tries again later when the refresh itself cannot be reached', async () => {
    const stream = new FakeEventStream()
    const live = harness([{ status: 401 }, stream])
    live.deps.refresh.mockRejectedValueOnce(new TypeError('offline'))
    live.connection.start()
    await flushPromises()

    expect(live.deps.waits).toEqual([1_000])
    expect(live.attempts).toHaveLength(2)
    live.connection.stop()
  })

  it('closes the stream and stays closed on stop (signed out)', async () => {
    const stream = new FakeEventStream()
    const live = harness([stream])
    live.connection.start()
    await flushPromises()
    stream.send('event: ready\ndata: {}\n\n')
    await flushPromises()

    live.connection.stop()
    await flushPromises()

    expect(live.attempts[0]!.init.signal!.aborted).toBe(true)
    expect(stream.open).toBe(false)
    expect(live.connection.state).toBe('stopped')
    expect(live.attempts).toHaveLength(1)
    expect(live.deps.waits).toEqual([])
  })

  it('keeps delivering when one listener throws', async () => {
    const stream = new FakeEventStream()
    const live = harness([stream])
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    live.connection.onNotice(() => {
      throw new Error('oops')
    })
    live.connection.start()
    await flushPromises()
    stream.event('DocumentClassified', CLASSIFIED)
    stream.event('DocumentClassified', { ...CLASSIFIED, token: '9.9' })
    await flushPromises()

    expect(live.notices).toHaveLength(2)
    expect(logged).toHaveBeenCalledTimes(2)
    live.connection.stop()
  })
})
