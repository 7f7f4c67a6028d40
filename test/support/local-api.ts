import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect } from 'vitest';
import { createLocalGateway, listen } from '#dev/local/local-gateway.ts';
import { localRoutes } from '#dev/local/routes.ts';
import { closeApp, getApp } from '#lib/app.ts';
import type { Row } from '#lib/db/database.ts';
import { seedRequest as seedExample } from '../../scripts/seed-request.ts';
import { receivedRequests } from './wiremock-journal.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

/**
 * Serves the real handlers through the local API Gateway adapter on a free port for the
 * current test file, and closes it (and the file's database) afterwards.
 */
export function useLocalApi() {
  let server: Server;
  let baseUrl = '';
  beforeAll(async () => {
    await getApp();
    server = createLocalGateway(localRoutes);
    baseUrl = await listen(server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await closeApp();
  });

  const request = async (path: string, init: RequestInit = {}): Promise<ApiResponse> => {
    const res = await fetch(`${baseUrl}${path}`, init);
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the test looks at `text`
    }
    return { status: res.status, headers: res.headers, text, json };
  };

  /** Rows of `checkouts` matching a SQL condition, read straight from the database. */
  const checkoutRows = async (where: string, params: Record<string, string> = {}) => {
    const { db } = await getApp();
    return db.query<Row>(
      `select id::text, status, total_amount::text, payment_id, order_id, failed_step, error,
         reason, undo_failures::text, response_status, response_body, card_last4,
         items::text, shipping_address::text, locked_until
       from checkouts where ${where}`,
      params,
    );
  };

  return {
    request,
    checkoutRows,
    /**
     * No row, and no downstream request that changes anything, carries the marker: a refused
     * request changed nothing (the catalog may have been asked for prices).
     */
    async expectNothingHappened(marker: string) {
      expect(
        await checkoutRows('customer_email like :m or shipping_address::text like :m', {
          m: `%${marker}%`,
        }),
      ).toEqual([]);
      for (const service of ['payment', 'inventory', 'order'] as const) {
        // A catalog quote (on the inventory service's URL) is a read: it changes nothing.
        const changes = (await receivedRequests(service, marker)).filter(
          (request) => !request.url.startsWith('/catalog/'),
        );
        expect(changes).toEqual([]);
      }
    },
    postCheckout: (body: unknown, headers: Record<string, string> = {}) =>
      request('/checkout/process', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  };
}

/** A unique value per test, carried in the email, street and product ids it sends. */
export const newMarker = () => `t${randomUUID().replaceAll('-', '').slice(0, 16)}`;

/** The seed README's request (with a card expiry still in the future), tagged with a marker. */
export function seedRequest(marker = newMarker()) {
  const body = seedExample();
  body.customer_email = `customer+${marker}@example.com`;
  body.shipping_address.street = `Rua das Flores ${marker}`;
  body.items = body.items.map((item) => ({ ...item, product_id: `${item.product_id}_${marker}` }));
  return body;
}
