import http from 'node:http';
import https from 'node:https';

/** Kept-alive sockets shared by every client of the process (one TLS handshake per host). */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Aborts the exchange: before the answer, the request fails; after it, the body breaks off. */
  signal: AbortSignal;
  /**
   * On a connection of its own, closed after the answer, rather than a kept-alive one: nothing
   * written for an earlier request can be waiting on it (a service that wrote one answer twice).
   */
  fresh?: boolean;
}

export interface HttpAnswer {
  status: number;
  text: string;
  /**
   * Whether the body's end was marked (`Content-Length` or chunked). An unframed body ends when
   * the connection closes, so a body cut short reads exactly like a whole one.
   */
  framed: boolean;
  /** The `Idempotency-Key` the answer carries back, where the service echoes it. */
  idempotencyKey?: string;
}

/** The status line arrived, then the body broke off (reset, closed, aborted): it was delivered. */
export class AnswerBrokenOff extends Error {
  constructor(override readonly cause: unknown) {
    super('the answer broke off');
  }
}

/** Node refused to build the request (an invalid header value or URL): nothing was sent. */
export class RequestNotSent extends Error {
  constructor(override readonly cause: unknown) {
    super('the request could not be built');
  }
}

/**
 * The exchange ended (an error, a timeout, an abort) before its socket was connected: refused,
 * no address, every address of a name refused, a TLS handshake that failed. Not a byte of the
 * request was sent, so the service cannot have acted.
 */
export class NeverConnected extends Error {
  constructor(override readonly cause: unknown) {
    super('the connection never opened');
  }
}

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

/** More than any answer of these services: read no further, the outcome stays unknown. */
const MAX_ANSWER_CHARS = 1 << 20;

/**
 * One HTTP exchange on Node's own client: sends `body`, reads the whole answer as text. No
 * redirects are followed and nothing is decompressed (no `Accept-Encoding` is sent): a service
 * that redirects a payment has not answered it.
 *
 * It settles by itself when `signal` aborts and when the request closes without an answer, and
 * never relies on Node to turn an abort into an error: after a `101 Switching Protocols` the
 * client drops the socket, emits nothing, and ignores a later abort.
 *
 * Whether the request can have reached the service is read from its socket, not from error
 * codes: an exchange that ends before the socket connected rejects with `NeverConnected`.
 * (Node's own errors say too little: with several addresses, all refused, happy eyeballs
 * reports an `AggregateError` with no `syscall`.)
 *
 * This replaced node-fetch, which cost ≈ 0.3 ms of CPU per call against ≈ 0.08 ms here
 * (docs/benchmark.md): a third of what a whole checkout cost, for features these small JSON
 * calls do not use (WHATWG streams, a Body mixin, redirects, decompression).
 */
export function exchange(url: string, request: HttpRequest): Promise<HttpAnswer> {
  if (!request.fresh) return exchangeOn(url, request, agents);
  // A connection of its own: an agent for this exchange alone, closed once it has settled. It
  // still asks for a kept-alive connection, so the service frames its answer (a close-delimited
  // body could not tell a whole "no" from one cut short, and would be read as unknown).
  const own = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 1 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  const closeOwn = () => {
    own['http:'].destroy();
    own['https:'].destroy();
  };
  const answer = exchangeOn(url, request, own);
  answer.then(closeOwn, closeOwn);
  return answer;
}

function exchangeOn(url: string, request: HttpRequest, pool: typeof agents): Promise<HttpAnswer> {
  const { signal } = request;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new NeverConnected(signal.reason));
    let connected = false;
    let answered = false;
    let outgoing: http.ClientRequest;
    let protocol: keyof typeof agents;
    try {
      const target = new URL(url);
      protocol = target.protocol === 'https:' ? 'https:' : 'http:';
      const headers =
        request.body === undefined
          ? request.headers
          : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
      outgoing = (protocol === 'https:' ? https : http).request(
        target,
        { method: request.method, headers, agent: pool[protocol] },
        (answer) => {
          answered = true;
          answer.setEncoding('utf8');
          let text = '';
          answer.on('data', (chunk: string) => {
            text += chunk;
            if (text.length > MAX_ANSWER_CHARS) {
              reject(new AnswerBrokenOff(failure('ANSWER_TOO_LARGE', 'the answer is too large')));
              outgoing.destroy();
            }
          });
          const framed =
            answer.headers['content-length'] !== undefined ||
            /(?:^|,)\s*chunked\s*$/i.test(answer.headers['transfer-encoding'] ?? '');
          const key = answer.headers['idempotency-key'];
          const idempotencyKey = Array.isArray(key) ? key.join(',') : key;
          answer.on('end', () =>
            resolve({ status: answer.statusCode ?? 0, text, framed, idempotencyKey }),
          );
          answer.on('error', (error) => reject(new AnswerBrokenOff(error)));
          answer.on('close', () => {
            if (!answer.complete) reject(new AnswerBrokenOff(signal.reason ?? 'closed'));
          });
        },
      );
    } catch (error) {
      return reject(new RequestNotSent(error));
    }
    const unanswered = (error: unknown) => (connected ? error : new NeverConnected(error));
    outgoing.on('socket', (socket) => {
      // A kept-alive socket is open already. A new one carries the request only once it has
      // connected, and over TLS only once the handshake is done: nothing is sent before that.
      if (outgoing.reusedSocket) connected = true;
      else
        socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => (connected = true));
    });
    const onAbort = () => {
      reject(answered ? new AnswerBrokenOff(signal.reason) : unanswered(signal.reason));
      outgoing.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => reject(unanswered(error)));
    outgoing.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      // Closed with neither an answer nor an error (a 101 it cannot take): sent, so unknown.
      if (!answered)
        reject(unanswered(failure('NO_ANSWER', 'the connection closed without an answer')));
    });
    outgoing.end(request.body);
  });
}
