import { execFile } from 'node:child_process';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
  ServiceUnavailableError,
} from '#lib/checkout/service-errors.ts';
import { backoffDelay, type RetryPolicy } from '#lib/clients/retry-policy.ts';
import {
  ServiceHttpClient,
  type ServiceHttpClientOptions,
} from '#lib/clients/service-http-client.ts';
import { portThatNeverAccepts, resolveToTwoLoopbacks } from '../support/unreachable-hosts.ts';

interface ReceivedRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers one request; the server uses them in turn, repeating the last one. */
type Responder = (res: ServerResponse, req: http.IncomingMessage) => void;

const json =
  (status: number, body: unknown): Responder =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
const neverAnswer: Responder = () => {};
const destroySocket: Responder = (_res, req) => req.socket.destroy();

const servers: http.Server[] = [];
const rawServers: net.Server[] = [];

afterEach(async () => {
  await Promise.all([
    ...servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
    ...rawServers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  ]);
});

/** A local service on a free port, answering with `responders` in turn. */
async function startService(...responders: Responder[]) {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const responder = responders[Math.min(requests.length, responders.length) - 1];
      responder?.(res, req);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}

/**
 * A service that answers every request with the raw bytes of `answer` and closes the connection
 * (how an answer without Content-Length or chunking ends).
 */
async function startRawService(answer: string) {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.once('data', () => socket.end(answer));
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

/** A port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const TINY_BACKOFF: RetryPolicy = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 };

function client(baseUrl: string, options: Partial<ServiceHttpClientOptions> = {}) {
  return new ServiceHttpClient({
    service: 'payment',
    baseUrl,
    timeoutMs: 2_000,
    retry: TINY_BACKOFF,
    ...options,
  });
}

const chargeResponse = z.object({ status: z.literal('success'), transactionId: z.string() });
const SUCCESS = { status: 'success', transactionId: 'txn_123' };

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('ServiceHttpClient', () => {
  it('posts the body as JSON with the idempotency key exactly as given', async () => {
    const service = await startService(json(200, SUCCESS));
    const body = { amount: 349.7, checkout_id: 'c-1' };
    await client(service.url).post('/payments/process', body, 'c-1:charge', chargeResponse);
    expect(service.requests).toHaveLength(1);
    const [request] = service.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/payments/process');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe('c-1:charge');
    expect(request?.body).toBe('{"amount":349.7,"checkout_id":"c-1"}');
  });

  it('passes Lambda’s trace header on, so the service joins the invocation’s trace', async () => {
    const service = await startService(json(200, SUCCESS));
    const trace = 'Root=1-6743a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1';
    vi.stubEnv('_X_AMZN_TRACE_ID', trace);
    try {
      await client(service.url).post('/p', {}, 'k', chargeResponse);
    } finally {
      vi.unstubAllEnvs();
    }
    await client(service.url).post('/p', {}, 'k', chargeResponse);
    expect(service.requests.map((r) => r.headers['x-amzn-trace-id'])).toEqual([trace, undefined]);
  });

  it('returns the parsed body of a 200 that matches the schema', async () => {
    const service = await startService(json(200, { ...SUCCESS, extra: 'dropped' }));
    const value = await client(service.url).post('/p', {}, 'k', chargeResponse);
    expect(value).toEqual(SUCCESS);
  });

  it('turns a 422 into a refusal with the service’s reason, without retrying', async () => {
    const service = await startService(
      json(422, { error: 'insufficient_funds', message: 'x' }),
      json(200, SUCCESS),
    );
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(error).toMatchObject({ service: 'payment', reason: 'insufficient_funds', message: 'x' });
    expect(service.requests).toHaveLength(1);
  });

  it('turns a 409 into a refusal, without retrying', async () => {
    const service = await startService(
      json(409, { success: false, error: 'out_of_stock', product_id: 'prod_001' }),
    );
    const error = await failure(
      client(service.url, { service: 'inventory' }).post('/d', {}, 'k', chargeResponse),
    );
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(error).toMatchObject({ service: 'inventory', reason: 'out_of_stock' });
    expect(service.requests).toHaveLength(1);
  });

  it('names a refusal without a JSON body after its status', async () => {
    const service = await startService(json(400, 'Bad Request'));
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(error).toMatchObject({ reason: 'http_400' });
  });

  it('retries a 503 and succeeds on the third attempt', async () => {
    const service = await startService(json(503, {}), json(503, {}), json(200, SUCCESS));
    const value = await client(service.url).post('/p', {}, 'k', chargeResponse);
    expect(value).toEqual(SUCCESS);
    expect(service.requests).toHaveLength(3);
  });

  it('sends the same idempotency key on every retry', async () => {
    const service = await startService(json(503, {}), json(200, SUCCESS));
    await client(service.url).post('/p', {}, 'c-9:deduct', chargeResponse);
    expect(service.requests.map((r) => r.headers['idempotency-key'])).toEqual([
      'c-9:deduct',
      'c-9:deduct',
    ]);
  });

  it.each([500, 502, 503, 504])(
    'reports %s after every attempt as an unknown outcome: it may come after the service acted',
    async (status) => {
      const service = await startService(json(status, {}));
      const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
      expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
      expect(error).toMatchObject({ service: 'payment', reason: `http_${status}` });
      expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
    },
  );

  it('reports an unknown outcome when one attempt was refused a connection and another got a 503', async () => {
    const port = await closedPort();
    const service = await startService(json(503, {}));
    const flaky = client(`http://127.0.0.1:${port}`, { retry: { ...TINY_BACKOFF, maxRetries: 0 } });
    expect(await failure(flaky.post('/p', {}, 'k', chargeResponse))).toBeInstanceOf(
      ServiceUnavailableError,
    );
    const reached = client(service.url, { retry: { ...TINY_BACKOFF, maxRetries: 0 } });
    expect(await failure(reached.post('/p', {}, 'k', chargeResponse))).toBeInstanceOf(
      ServiceOutcomeUnknownError,
    );
  });

  it.each([
    [409, 'idempotency_key_in_use'],
    [400, 'idempotency_error'],
  ])(
    'never reads a %s %s about the key as a refusal: retried, then unknown',
    async (status, code) => {
      const service = await startService(json(status, { error: code }));
      const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
      expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
      expect(error).toMatchObject({ reason: code });
      expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
    },
  );

  it('succeeds when a request holding the key finishes and the retry gets its answer', async () => {
    const service = await startService(
      json(409, { error: 'idempotency_key_in_use' }),
      json(200, SUCCESS),
    );
    expect(await client(service.url).post('/p', {}, 'k', chargeResponse)).toEqual(SUCCESS);
  });

  it.each([
    // A 403 is our credentials turned down: tried again (with the key read afresh).
    ['a WAF 403 page', 403, '<html>Forbidden</html>', 3],
    ['a 409 with another code', 409, { error: 'request_in_progress' }, 2],
    ['a 404', 404, { error: 'not_found' }, 2],
  ])(
    'reads %s after a try that reached the service as unknown, not as a refusal',
    async (_case, status, body, tries) => {
      const service = await startService(json(504, 'Gateway Timeout'), json(status, body));
      const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
      expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
      expect(service.requests).toHaveLength(tries);
    },
  );

  it('masks card-like digit runs in a refusal’s message and caps its length', async () => {
    const service = await startService(
      json(422, {
        error: 'card_declined',
        message: `Card 4111 1111 1111 1111 and 5500-0000-0000-0004 declined ${'x'.repeat(300)}`,
      }),
    );
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(error.message).toMatch(/^Card \[redacted\] and \[redacted\] declined x+$/);
    expect(error.message).toHaveLength(200);
  });

  it('GETs a lookup without a body or an idempotency key', async () => {
    const service = await startService(json(200, { payments: [] }));
    const value = await client(service.url).get(
      '/payments?checkout_id=c-1',
      z.object({ payments: z.array(z.unknown()) }),
    );
    expect(value).toEqual({ payments: [] });
    expect(service.requests[0]).toMatchObject({ method: 'GET', url: '/payments?checkout_id=c-1' });
    expect(service.requests[0]?.headers['idempotency-key']).toBeUndefined();
    expect(service.requests[0]?.body).toBe('');
  });

  it('keeps the per-try timeout while the garbage collector runs (Node 20 AbortSignal.any)', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', 'test/support/timeout-under-gc.ts'],
        { timeout: 8_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    const { outcome, elapsedMs } = JSON.parse(output);
    expect(outcome).toBe('ServiceOutcomeUnknownError:timeout');
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('does not retry at all when maxRetries is 0', async () => {
    const service = await startService(json(503, {}));
    const retry = { ...TINY_BACKOFF, maxRetries: 0 };
    await failure(client(service.url, { retry }).post('/p', {}, 'k', chargeResponse));
    expect(service.requests).toHaveLength(1);
  });

  it.each([408, 425, 429])('retries a %s as transient', async (status) => {
    const service = await startService(json(status, {}), json(200, SUCCESS));
    const value = await client(service.url).post('/p', {}, 'k', chargeResponse);
    expect(value).toEqual(SUCCESS);
    expect(service.requests).toHaveLength(2);
  });

  it('reports a refused connection as unavailable: the service cannot have acted', async () => {
    const port = await closedPort();
    const error = await failure(
      client(`http://127.0.0.1:${port}`).post('/p', {}, 'k', chargeResponse),
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'econnrefused' });
  });

  it('reports a name whose every address refuses as unavailable (happy eyeballs’ AggregateError)', async () => {
    const port = await closedPort();
    const restore = resolveToTwoLoopbacks('two-addresses.payment.test');
    try {
      const error = await failure(
        client(`http://two-addresses.payment.test:${port}`).post('/p', {}, 'k', chargeResponse),
      );
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ reason: 'econnrefused' });
    } finally {
      restore();
    }
  });

  it('reports a connection never accepted before the timeout as unavailable: nothing was sent', async () => {
    const silent = await portThatNeverAccepts();
    try {
      const error = await failure(
        client(`http://127.0.0.1:${silent.port}`, { timeoutMs: 100 }).post(
          '/p',
          {},
          'k',
          chargeResponse,
        ),
      );
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ reason: 'connect_timeout' });
    } finally {
      silent.close();
    }
  });

  it.each([
    ['never finishes its handshake', () => {}],
    [
      'answers the handshake with plain HTTP',
      (socket: net.Socket) =>
        socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')),
    ],
  ])(
    'reports an https service that %s as unavailable: nothing is sent before TLS is up',
    async (_case, onConnection) => {
      const received: Buffer[] = [];
      const sockets: net.Socket[] = [];
      const raw = net.createServer((socket) => {
        sockets.push(socket);
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        onConnection(socket);
      });
      await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = raw.address() as AddressInfo;
        const error = await failure(
          client(`https://127.0.0.1:${port}`, { timeoutMs: 200 }).post(
            '/p',
            { checkout_id: 'c-tls' },
            'k',
            chargeResponse,
          ),
        );
        expect(error).toBeInstanceOf(ServiceUnavailableError);
        // What reached the port was TLS handshakes only, never the request.
        expect(Buffer.concat(received).toString('latin1')).not.toContain('c-tls');
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => raw.close(resolve));
      }
    },
  );

  it('reports a kept-alive connection reset under the next request as unknown: it was sent', async () => {
    const connections = new Set<unknown>();
    const service = await startService(
      (res, req) => {
        connections.add(req.socket);
        json(200, SUCCESS)(res, req);
      },
      (_res, req) => {
        connections.add(req.socket);
        req.socket.destroy();
      },
    );
    const once = client(service.url, { retry: { ...TINY_BACKOFF, maxRetries: 0 } });
    await once.post('/p', {}, 'k1', chargeResponse);
    const error = await failure(once.post('/p', {}, 'k2', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'econnreset' });
    expect(connections.size).toBe(1); // the second request went out on the first one's socket
  });

  it('reports a timeout as an unknown outcome after retrying', async () => {
    const service = await startService(neverAnswer);
    const error = await failure(
      client(service.url, { timeoutMs: 100 }).post('/p', {}, 'k', chargeResponse),
    );
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ service: 'payment', reason: 'timeout' });
    expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
  });

  it.each([
    ['a body that breaks the schema', { status: 'success' }],
    ['a body that is not JSON', '<html>ok</html>'],
  ])('retries a 200 with %s, then reports an unknown outcome', async (_case, body) => {
    const service = await startService(json(200, body));
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'malformed_response' });
    expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
  });

  it('accepts a good answer on retry after a malformed 200', async () => {
    const service = await startService(json(200, { status: 'success' }), json(200, SUCCESS));
    expect(await client(service.url).post('/p', {}, 'k', chargeResponse)).toEqual(SUCCESS);
  });

  it('stays at an unknown outcome when a malformed 200 is followed by 503s', async () => {
    const service = await startService(json(200, { nope: true }), json(503, {}));
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'http_503' });
  });

  it('reports a socket destroyed mid-request as an unknown outcome', async () => {
    const service = await startService(destroySocket);
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ service: 'payment', reason: 'econnreset' });
    expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
  });

  it('reports an answer whose body breaks off after the status line as an unknown outcome', async () => {
    const breakOff: Responder = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"status":"succ');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const service = await startService(breakOff);
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ service: 'payment', reason: 'econnreset' });
    expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
  });

  it('reports a body that stalls past the per-try timeout as an unknown outcome', async () => {
    const stall: Responder = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    };
    const service = await startService(stall);
    const error = await failure(
      client(service.url, { timeoutMs: 100 }).post('/p', {}, 'k', chargeResponse),
    );
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
  });

  it('does not follow a redirect: the payment was not answered, so its outcome is unknown', async () => {
    const elsewhere = await startService(json(200, SUCCESS));
    const redirect: Responder = (res) => {
      res.writeHead(307, { location: `${elsewhere.url}/p` });
      res.end();
    };
    const service = await startService(redirect);
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'http_307' });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('ends an answer it cannot take (101 Switching Protocols) as unknown, without hanging', async () => {
    const raw = net.createServer((socket) => {
      socket.once('data', () =>
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n',
        ),
      );
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = raw.address() as AddressInfo;
      const error = await failure(
        client(`http://127.0.0.1:${port}`, { timeoutMs: 200 }).post('/p', {}, 'k', chargeResponse),
      );
      expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it.each([
    ['cut short', '{"status":"failed","error":"card_decl'],
    ['whole, for all we can tell', '{"status":"failed","error":"card_declined"}'],
  ])(
    'reads a 422 whose unframed body ends with the connection (%s) as unknown, never as a refusal',
    async (_case, body) => {
      const service = await startRawService(
        `HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: application/json\r\n\r\n${body}`,
      );
      const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
      expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
      expect(error).toMatchObject({ reason: 'http_422_unframed' });
      expect(service.connections()).toBe(TINY_BACKOFF.maxRetries + 1);
    },
  );

  it('still refuses on a chunked 422: its end is marked', async () => {
    const service = await startService((res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.write('{"status":"failed",');
      res.end('"error":"card_declined"}');
    });
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(error).toMatchObject({ reason: 'card_declined' });
  });

  it('takes an unframed 200 whose body parses, and reads a cut-short one as unknown', async () => {
    const whole = await startRawService(
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(SUCCESS)}`,
    );
    expect(await client(whole.url).post('/p', {}, 'k', chargeResponse)).toEqual(SUCCESS);
    const cut = await startRawService(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"status":"success","transa',
    );
    const error = await failure(client(cut.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'malformed_response' });
  });

  it('calls a request Node refuses to build (a header with a newline) unavailable: nothing was sent', async () => {
    const service = await startService(json(200, SUCCESS));
    const headers = async () => ({ 'x-api-key': 'key-with-newline\n' });
    const error = await failure(
      client(service.url, { headers }).post('/p', {}, 'k', chargeResponse),
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'request_not_sent' });
    expect(service.requests).toHaveLength(0);
  });

  it('stops reading an answer over 1 MiB and reports an unknown outcome', async () => {
    const service = await startService(json(200, { ...SUCCESS, padding: 'x'.repeat(2 << 20) }));
    const error = await failure(client(service.url).post('/p', {}, 'k', chargeResponse));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'answer_too_large' });
  });

  it('sends a multi-byte body whole and reads a multi-byte answer whole', async () => {
    const answer = { ...SUCCESS, transactionId: 'txn_ünïcødé_€_😀'.repeat(2_000) };
    const service = await startService(json(200, answer));
    const body = { name: 'Zoë Ångström 😀', note: 'é'.repeat(70_000) };
    expect(await client(service.url).post('/p', body, 'k', chargeResponse)).toEqual(answer);
    expect(JSON.parse(service.requests[0]?.body ?? '')).toEqual(body);
    expect(service.requests[0]?.headers['content-length']).toBe(
      String(Buffer.byteLength(JSON.stringify(body))),
    );
  });
});

describe('backoffDelay', () => {
  const policy: RetryPolicy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

  it.each([
    [0, 100],
    [1, 200],
    [2, 400],
    [3, 800],
    [4, 1_000],
    [10, 1_000],
  ])('keeps attempt %s within [0, %s)', (attempt, ceiling) => {
    expect(backoffDelay(policy, attempt, () => 0)).toBe(0);
    const highest = backoffDelay(policy, attempt, () => 0.999_999);
    expect(highest).toBeLessThan(ceiling);
    expect(highest).toBe(ceiling - 1);
    expect(backoffDelay(policy, attempt, () => 0.5)).toBe(ceiling / 2);
  });

  it('returns whole milliseconds', () => {
    expect(Number.isInteger(backoffDelay(policy, 0, () => 0.123_456))).toBe(true);
  });
});

describe('ServiceHttpClient with credentials of its own', () => {
  it('sends the headers it is given on every request (the payment API key)', async () => {
    const service = await startService(json(500, {}), json(200, SUCCESS));
    const headers = async () => ({ 'x-api-key': 'key-from-secrets-manager' });

    await client(service.url, { headers }).post(
      '/payments/process',
      {},
      'c-1:charge',
      chargeResponse,
    );

    expect(service.requests.map((r) => r.headers['x-api-key'])).toEqual([
      'key-from-secrets-manager',
      'key-from-secrets-manager',
    ]);
  });

  it('calls a request whose credentials could not be read unavailable: it never left', async () => {
    const service = await startService(json(200, SUCCESS));
    const headers = async (): Promise<Record<string, string>> => {
      throw new Error('Secrets Manager unavailable');
    };

    const error = await failure(
      client(service.url, { headers }).post('/payments/process', {}, 'c-1:charge', chargeResponse),
    );

    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'credentials_unavailable' });
    expect(service.requests).toEqual([]);
  });

  it('gives up a credentials read that hangs when the attempt times out: the request never left', async () => {
    const service = await startService(json(200, SUCCESS));
    const headers = () => new Promise<Record<string, string>>(() => {});

    const error = await failure(
      client(service.url, { headers, timeoutMs: 50 }).post(
        '/payments/process',
        {},
        'c-1:charge',
        chargeResponse,
      ),
    );

    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'credentials_unavailable' });
    expect(service.requests).toEqual([]);
  });

  it.each([401, 403])(
    'reads a %i as our credentials turned down, not as a refusal: nothing was done, the key is read afresh',
    async (status) => {
      const service = await startService(
        json(status, { error: 'unauthorized', message: 'bad key' }),
      );
      let forgotten = 0;

      const error = await failure(
        client(service.url, {
          headers: async () => ({ 'x-api-key': 'rotated-away' }),
          onCredentialsRejected: () => forgotten++,
        }).post('/payments/process', {}, 'c-1:charge', chargeResponse),
      );

      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ reason: `credentials_rejected_${status}` });
      expect(service.requests).toHaveLength(TINY_BACKOFF.maxRetries + 1);
      expect(forgotten).toBe(TINY_BACKOFF.maxRetries + 1);
    },
  );
});
