import type { Server } from 'node:http';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localContext } from '#dev/local/api-gateway-event.ts';
import type { AccessLogLine } from '#dev/local/local-gateway.ts';

/*
 * The local server runs every function's invocations in one process, side by side, with the
 * one Powertools logger: each must still log with its own Lambda context and keys, as on
 * Lambda. The runtime is emulated first: the logger reads its environment when created.
 */
process.env.LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
const { emulateLambdaRuntime, inInvocation } = await import('#dev/local/lambda-runtime.ts');
await emulateLambdaRuntime();
const { createLocalGateway, listen } = await import('#dev/local/local-gateway.ts');
const { httpFunction } = await import('#lib/http/http-function.ts');
const { jsonResponse } = await import('#lib/http/responses.ts');
const { logger } = await import('#lib/observability/index.ts');

/** A checkout-like function that holds its invocation open until `release` is called. */
let release: () => void = () => {};
let markStarted: () => void = () => {};
const slowStarted = new Promise<void>((resolve) => {
  markStarted = resolve;
});
const slowCheckout = httpFunction(async () => {
  logger.appendKeys({ checkout_id: 'co-slow' });
  logger.info('slow started');
  await new Promise<void>((resolve) => {
    release = resolve;
    markStarted();
  });
  logger.info('slow finished');
  return jsonResponse(200, { checkout_id: 'co-slow', status: 'completed' });
});
const readCheckout = httpFunction(async () => jsonResponse(404, { error: 'not_found' }));
/** Shaped like functions/recovery/handler.ts: its own logger context, keys reset after. */
const recovery = middy<unknown, unknown, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    logger.info('recovery run finished');
  });

const accessLog: AccessLogLine[] = [];
let server: Server;
let baseUrl = '';
beforeAll(async () => {
  server = createLocalGateway(
    [
      { method: 'POST', resource: '/slow', functionName: 'checkout', handler: slowCheckout },
      {
        method: 'GET',
        resource: '/checkout/{id}',
        functionName: 'checkout',
        handler: readCheckout,
      },
    ],
    undefined,
    { accessLog: (line) => accessLog.push(line) },
  );
  baseUrl = await listen(server, 0, '127.0.0.1');
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
});

/** The JSON log lines written while `work` runs. */
async function logLines(work: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('invocations served side by side by the local server', () => {
  let lines: Record<string, unknown>[] = [];
  let recoveryRequestId = '';
  beforeAll(async () => {
    lines = await logLines(async () => {
      const answer = fetch(`${baseUrl}/slow`, { method: 'POST', body: '{}' });
      await slowStarted;
      const context = localContext('recovery');
      recoveryRequestId = context.awsRequestId;
      await inInvocation(context, () => recovery({}, context));
      release();
      await (await answer).text();
      await fetch(`${baseUrl}/checkout/abc-123`).then((res) => res.text());
      await fetch(`${baseUrl}/nowhere`).then((res) => res.text());
    });
  });

  const line = (message: string) => {
    const found = lines.find((l) => l.message === message);
    if (!found) throw new Error(`no log line "${message}" in ${JSON.stringify(lines)}`);
    return found;
  };

  it('log with their own function name and request id, and keep their own keys', () => {
    const started = line('slow started');
    const finished = line('slow finished');
    const recovered = line('recovery run finished');
    expect(recovered).toMatchObject({
      function_name: 'recovery',
      function_request_id: recoveryRequestId,
    });
    expect(recovered).not.toHaveProperty('checkout_id');
    expect(finished).toMatchObject({
      function_name: 'checkout',
      function_request_id: started.function_request_id,
      checkout_id: 'co-slow',
    });
    expect(finished.function_request_id).not.toBe(recoveryRequestId);
  });

  it('report cold_start on the first invocation only', () => {
    expect(line('slow started').cold_start).toBe(true);
    expect(line('slow finished').cold_start).toBe(true);
    expect(line('recovery run finished').cold_start).toBe(false);
  });

  it('write one access-log line per request: method, path, status, latency, checkout id', () => {
    expect(accessLog).toHaveLength(3);
    const [slow, read, unknown] = accessLog;
    expect(slow).toMatchObject({
      httpMethod: 'POST',
      path: '/slow',
      resourcePath: '/slow',
      status: 200,
      checkoutId: 'co-slow',
    });
    expect(slow?.responseLatency).toEqual(expect.any(Number));
    expect(read).toMatchObject({
      httpMethod: 'GET',
      path: '/checkout/abc-123',
      resourcePath: '/checkout/{id}',
      status: 404,
      checkoutId: 'abc-123',
    });
    expect(unknown).toMatchObject({ httpMethod: 'GET', path: '/nowhere', status: 404 });
    expect(unknown).not.toHaveProperty('checkoutId', expect.anything());
  });
});
