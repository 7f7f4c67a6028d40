import { createHash } from 'node:crypto';

/**
 * What a payment service holds once a customer paid a Pix or boleto, as stubs for the local
 * payment WireMock (wiremock/README.md, "Pix and boleto"): its outcome lookup says `paid`, and
 * the cancel of that transaction is refused (a paid charge cannot be cancelled; without it the
 * default cancel would answer `cancelled` and lie). `npm run pay` imports them; tests use them too.
 */

/** A lookup entry of the payment service (`GET /payments?checkout_id=`). */
export interface PaymentEntry {
  transactionId: string;
  checkout_id: string;
  status: string;
  amount?: number;
  currency?: string;
  paid_at?: string;
}

/**
 * The checkout's lookup stub saying `entry` is paid at `paidAt`: the stub id is the checkout id,
 * the one the mappings' webhooks register, so importing it with OVERWRITE replaces the pending
 * (or cancelled, or expired) one. Priority and metadata are the webhooks' too.
 */
export function paidLookupStub(entry: PaymentEntry, paidAt: string) {
  const { transactionId, checkout_id, amount, currency } = entry;
  return {
    id: checkout_id,
    name: `payment: lookup - ${checkout_id} holds ${transactionId} paid (registered by npm run pay)`,
    priority: 11,
    request: {
      method: 'GET',
      urlPath: '/payments',
      queryParameters: { checkout_id: { equalTo: checkout_id } },
    },
    response: {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      jsonBody: {
        payments: [
          { transactionId, checkout_id, status: 'paid', amount, currency, paid_at: paidAt },
        ],
      },
    },
    metadata: { registeredBy: 'webhook' },
  };
}

/**
 * A stable stub id (WireMock wants a UUID) for the refusal of one transaction's cancel, so a
 * second run replaces it instead of adding another.
 */
function cancelRefusedId(transactionId: string): string {
  const hex = createHash('sha256').update(`cancel-refused:${transactionId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The refusal of `POST /payments/<transactionId>/cancel`, before the default cancel (priority
 * 1): 422 `already_paid`, echoing the checkout id of the request as every payment answer does.
 */
export function cancelRefusedStub(transactionId: string) {
  const checkoutId = "{{jsonPath request.body '$.checkout_id'}}";
  return {
    id: cancelRefusedId(transactionId),
    name: `payment: cancel - ${transactionId} -> 422 already_paid (registered by npm run pay)`,
    priority: 1,
    request: { method: 'POST', urlPath: `/payments/${transactionId}/cancel` },
    response: {
      status: 422,
      headers: { 'Content-Type': 'application/json' },
      body: `{"status":"failed","error":"already_paid","message":"The payment was already made and cannot be cancelled","transactionId":"${transactionId}","checkout_id":"${checkoutId}"}`,
      transformers: ['response-template'],
    },
    metadata: { registeredBy: 'webhook' },
  };
}

/**
 * Makes the payment WireMock at `paymentUrl` hold `entry` as paid at `paidAt`: both stubs in
 * one import, each replacing any earlier one of the same id.
 */
export async function markPaid(paymentUrl: string, entry: PaymentEntry, paidAt: string) {
  const res = await fetch(`${paymentUrl}/__admin/mappings/import`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      mappings: [paidLookupStub(entry, paidAt), cancelRefusedStub(entry.transactionId)],
      importOptions: { duplicatePolicy: 'OVERWRITE', deleteAllNotInImport: false },
    }),
  });
  if (!res.ok) {
    throw new Error(
      `the payment WireMock refused the stubs: HTTP ${res.status} ${await res.text()}`,
    );
  }
}
