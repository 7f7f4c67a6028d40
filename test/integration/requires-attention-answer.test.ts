import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '#dev/api-docs/openapi.ts';
import { requiresAttentionResponseSchema } from '#dev/api-docs/response-schemas.ts';
import { finished } from '#lib/checkout/checkout-outcome.ts';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { renderFinished } from '#lib/http/checkout-presenter.ts';
import { databaseBefore } from '../support/database-before.ts';
import { startSharedDatabase } from '../support/shared-database.ts';

/*
 * A checkout in `requires_attention` (an undo or a settle that a person must finish) answers
 * 409 `checkout_requires_attention`, never 502 or 422 (which say that everything was undone),
 * with no Retry-After, the same on every replay; and the answers stored before this release are
 * rewritten to it. A database of this file's own: recovery sweeps every abandoned checkout in it.
 */
const shared = await startSharedDatabase({ ownSchema: true });
process.env.DATABASE_URL = shared.url;

const { closeApp } = await import('#lib/app.ts');
const { useLocalApi } = await import('../support/local-api.ts');
const { checkoutNeedingAttention } = await import('../support/requires-attention.ts');

const api = useLocalApi();
afterAll(async () => {
  await closeApp();
  await shared.stop();
});

/** The 409 `checkout-requires-attention` example of the OpenAPI document. */
const documentedExample = (() => {
  const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
  const post = paths['/checkout/process']?.post as {
    responses: Record<string, { content: Record<string, { examples: Record<string, unknown> }> }>;
  };
  const example = post.responses[409]?.content['application/json']?.examples[
    'checkout-requires-attention'
  ] as { value: Record<string, unknown> } | undefined;
  return example?.value ?? {};
})();

describe('a checkout that ended requires_attention', () => {
  it('answers a same-key retry 409 checkout_requires_attention, without Retry-After, byte for byte each time', async () => {
    const key = `attention-${randomUUID()}`;
    const stuck = await checkoutNeedingAttention(api, { 'Idempotency-Key': key });

    const again = await api.postCheckout(stuck.request, { 'Idempotency-Key': key });
    const later = await api.postCheckout(stuck.request, { 'Idempotency-Key': key });

    expect(again.status).toBe(409);
    expect(again.headers.get('retry-after')).toBeNull();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(Object.keys(again.json)).toEqual(['checkout_id', 'status', 'error', 'message']);
    expect(again.json).toEqual({
      checkout_id: stuck.id,
      status: 'requires_attention',
      error: 'checkout_requires_attention',
      message: expect.stringMatching(/money may be held.*Do not start another checkout/),
    });
    expect(again.text).not.toMatch(/undone|unavailable|_failed/);
    requiresAttentionResponseSchema.parse(again.json);
    expect({ ...again.json, checkout_id: documentedExample.checkout_id }).toEqual(
      documentedExample,
    );
    expect(later.status).toBe(409);
    expect(later.text).toBe(again.text);
    const [row] = await api.checkoutRows('id = :id::uuid', { id: stuck.id });
    expect(row).toMatchObject({ response_status: 409, response_body: again.text });
  });

  it('is shown by GET /checkout/{id} as requires_attention, with the failure that led there', async () => {
    const stuck = await checkoutNeedingAttention(api);

    const read = await api.request(`/checkout/${stuck.id}`);

    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({
      checkout_id: stuck.id,
      status: 'requires_attention',
      error: 'inventory_failed',
      reason: 'out_of_stock',
    });
  });
});

describe('migration 0006: answers stored before it for requires_attention', () => {
  it('are rewritten to the 409 this release renders for the same checkout; other answers stay', async () => {
    const older = await databaseBefore('0006-requires-attention-answer');
    try {
      const { db } = older;
      const insert = (id: string, status: string, code: number | null, body: string | null) =>
        db.query(
          `insert into checkouts (id, status, customer_email, currency, total_amount, items,
             shipping_address, card_brand, card_last4, payment_id, failed_step, error, reason,
             message, undo_failures, idempotency_key, request_hash, idempotency_expires_at,
             response_status, response_body)
           values (:id::uuid, :status, 'old@example.com', 'BRL', 349.70,
             '[{"product_id":"prod_001","quantity":2,"price":"99.90"},{"product_id":"prod_002","quantity":1,"price":"149.90"}]',
             '{"street":"Rua das Flores","number":"123","city":"São Paulo","state":"SP","zip_code":"01234-567"}',
             'visa', '1111', 'txn_old', 'order', 'order_unavailable', 'http_503',
             'The order service is unavailable', '["refund_payment"]', :key, 'hash',
             now() + interval '1 day', :code::integer, :body)`,
          { id, status, key: `api-key:shop\u001f${id}`, code, body },
        );
      const oldAnswer = (id: string, status: string) =>
        JSON.stringify({
          checkout_id: id,
          status,
          error: 'order_unavailable',
          reason: 'http_503',
          message:
            status === 'failed'
              ? 'The order service is unavailable'
              : 'The order service is unavailable; undoing it failed (refund_payment), the checkout needs attention',
        });
      const [was502, was422, failed, unanswered] = [1, 2, 3, 4].map(() => randomUUID()) as [
        string,
        string,
        string,
        string,
      ];
      await insert(was502, 'requires_attention', 502, oldAnswer(was502, 'requires_attention'));
      await insert(was422, 'requires_attention', 422, oldAnswer(was422, 'requires_attention'));
      await insert(failed, 'failed', 502, oldAnswer(failed, 'failed'));
      await insert(unanswered, 'requires_attention', null, null);

      expect(await older.upgrade()).toContain('0006-requires-attention-answer');

      const repository = createCheckoutRepository(db);
      const stored = async (id: string) => {
        const [row] = await db.query<{ code: number | null; body: string | null }>(
          'select response_status as code, response_body as body from checkouts where id = :id::uuid',
          { id },
        );
        return { code: row?.code ?? null, body: row?.body ?? null };
      };
      for (const id of [was502, was422]) {
        const checkout = await repository.findById(id);
        const rendered = renderFinished(finished(checkout ?? expect.fail(`${id} not found`)));
        expect(rendered.code).toBe(409);
        expect(await stored(id)).toEqual(rendered);
      }
      expect(await stored(failed)).toEqual({ code: 502, body: oldAnswer(failed, 'failed') });
      expect(await stored(unanswered)).toEqual({ code: null, body: null });
    } finally {
      await older.stop();
    }
  });
});
