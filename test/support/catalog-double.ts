import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createCatalogClient } from '#lib/clients/catalog-client.ts';
import { ServiceHttpClient } from '#lib/clients/service-http-client.ts';

/** One quote as a catalog double received it: its body and the Idempotency-Key it carried. */
export interface QuoteSeen {
  body: unknown;
  key: string | undefined;
}

/** How the catalog client under test is set up: its per-try timeout and retries. */
export interface CatalogClientOptions {
  timeoutMs?: number;
  maxRetries?: number;
}

/** The real catalog client (`lib/clients/catalog-client.ts`) against `url`. */
export function catalogClientAt(url: string, { timeoutMs = 500, maxRetries = 0 } = {}) {
  return createCatalogClient(
    new ServiceHttpClient({
      service: 'catalog',
      baseUrl: url,
      timeoutMs,
      retry: { maxRetries, baseDelayMs: 1, maxDelayMs: 2 },
    }),
  );
}

/**
 * Loopback catalogs for one test file, each on a free port and closed after every test: a
 * double that answers every quote the same way (`answering`), or one with a handler of the
 * test's own (`serving`).
 */
export function useCatalogDoubles() {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const serving = async (handler: http.RequestListener): Promise<string> => {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  /**
   * A catalog answering every quote with `status` and `body` (JSON, or the text as given)
   * after `delayMs`, and the client against it; `seen` lists the quotes it received.
   */
  const answering = async (
    status: number,
    body: unknown,
    options: CatalogClientOptions & { delayMs?: number; contentType?: string } = {},
  ) => {
    const { delayMs = 0, contentType = 'application/json', ...client } = options;
    const seen: QuoteSeen[] = [];
    const url = await serving((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      req.on('end', () => {
        seen.push({ body: JSON.parse(text), key: req.headers['idempotency-key'] as string });
        setTimeout(() => {
          res.writeHead(status, { 'content-type': contentType });
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
        }, delayMs);
      });
    });
    return { client: catalogClientAt(url, client), seen };
  };

  return { answering, serving };
}
