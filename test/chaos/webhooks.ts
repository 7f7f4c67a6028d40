import { signWebhook } from '#lib/http/webhook-signature.ts';
import type { PaymentEventOut } from './simulator.ts';

/**
 * The payment service's webhooks (design §4a), as the chaos harness delivers them: each event
 * the simulator queued (`Simulator.outbox`) POSTed to the app's `/webhooks/payments`, signed as
 * the service signs (`X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`), or
 * forged: signed with another secret, or with a time outside the app's tolerance (a captured
 * request replayed later). The faults on delivery (duplicated, out of order, lost, late, racing
 * a same-key retry or the sweep) are the scenario's (`async-scenario.ts`).
 */

/** The secret the chaos app is given (`PAYMENT_WEBHOOK_SECRET`) and the simulator signs with. */
export const CHAOS_WEBHOOK_SECRET = 'chaos-webhook-secret-0123456789abcdef';

/** How a webhook is forged: another secret, a stale time, or no signature at all. */
export type Forgery = 'bad_secret' | 'stale' | 'unsigned';

/** The body the service sends: the event's fields, nothing of the harness's own. */
export function webhookBody(event: PaymentEventOut): string {
  const { seq: _seq, ...fields } = event;
  return JSON.stringify(fields);
}

export interface Delivery {
  status: number | 'error';
  body: string;
}

/**
 * POSTs one event (or a forged copy, or a made-up event claiming something the service never
 * said) to the gateway; resolves with the app's answer.
 */
export async function deliverWebhook(
  gatewayUrl: string,
  event: PaymentEventOut,
  forgery?: Forgery,
): Promise<Delivery> {
  const raw = webhookBody(event);
  const now = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forgery === 'bad_secret') {
    headers['x-signature'] = signWebhook('not-the-secret', raw, now);
  } else if (forgery === 'stale') {
    headers['x-signature'] = signWebhook(CHAOS_WEBHOOK_SECRET, raw, now - 3_600);
  } else if (forgery === undefined) {
    headers['x-signature'] = signWebhook(CHAOS_WEBHOOK_SECRET, raw, now);
  }
  try {
    const res = await fetch(`${gatewayUrl}/webhooks/payments`, {
      method: 'POST',
      headers,
      body: raw,
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: await res.text() };
  } catch (error) {
    return { status: 'error', body: error instanceof Error ? error.message : String(error) };
  }
}
