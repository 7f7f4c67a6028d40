import { randomBytes } from 'node:crypto';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from '#lib/http/webhook-signature.ts';
import { causeOf, PayRefused } from './payable-entry.ts';

/**
 * The payment service's `payment.paid` webhook to the checkout API, as `npm run pay` plays it:
 * the event, and its delivery signed with the webhook secret at the time it is sent (a repeat
 * of the same event is signed anew, as a real service's retry is).
 */

export interface PaidEvent {
  event_id: string;
  type: 'payment.paid';
  transactionId: string;
  checkout_id: string;
  occurred_at: string;
}

export function paidEvent(
  transactionId: string,
  checkoutId: string,
  occurredAt: string,
): PaidEvent {
  return {
    event_id: `evt_${randomBytes(12).toString('hex')}`,
    type: 'payment.paid',
    transactionId,
    checkout_id: checkoutId,
    occurred_at: occurredAt,
  };
}

/** The path the payment service posts its webhooks to. */
export const WEBHOOK_PATH = '/webhooks/payments';

/** Posts `event` to the API at `apiUrl`, signed with `secret` now; its answer's status and body. */
export async function deliver(apiUrl: string, secret: string, event: PaidEvent) {
  const rawBody = JSON.stringify(event);
  const signature = signWebhook(secret, rawBody, Math.floor(Date.now() / 1000));
  let res: Response;
  try {
    res = await fetch(new URL(WEBHOOK_PATH, apiUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signature },
      body: rawBody,
    });
  } catch (error) {
    throw new PayRefused(
      `cannot reach the checkout API at ${apiUrl} (${causeOf(error)}): is \`npm start\` running? ` +
        'Elsewhere set APP_HOST and APP_PORT.',
    );
  }
  return { status: res.status, body: await res.text() };
}
