/**
 * Calls a service that never answers through the real `ServiceHttpClient` (timeout 200 ms, a
 * caller's deadline signal as the saga passes one) while the garbage collector runs every
 * 20 ms, and prints how the call ended and after how long. Run with `node --expose-gc`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod/mini';
import { ServiceHttpClient } from '#lib/clients/service-http-client.ts';

const server = http.createServer(() => {}); // never answers
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const collect = setInterval(() => (globalThis as { gc?: () => void }).gc?.(), 20);

const client = new ServiceHttpClient({
  service: 'payment',
  baseUrl: `http://127.0.0.1:${port}`,
  timeoutMs: 200,
  retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
});
const deadline = new AbortController();
const started = performance.now();
const outcome = await client
  .post('/payments/process', {}, 'k:charge', z.unknown(), deadline.signal)
  .then(
    () => 'answered',
    (error: Error & { reason?: string }) => `${error.name}:${error.reason}`,
  );
process.stdout.write(
  `${JSON.stringify({ outcome, elapsedMs: Math.round(performance.now() - started) })}\n`,
);
clearInterval(collect);
server.closeAllConnections();
server.close();
