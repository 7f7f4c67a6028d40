import type { PaymentSecrets } from '#lib/checkout/checkout.ts';
import type { PaymentEvent } from '#lib/checkout/payment-event.ts';
import { receivePaymentEvent } from '#lib/checkout/payment-webhook.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { recoverAbandoned } from '#lib/checkout/recover-abandoned.ts';
import type { RecoveryOptions } from '#lib/checkout/recovery.ts';
import { claim, ID } from './after-order-fakes.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  outcomeOfKind,
  type SagaFakes,
  sampleCart,
  storedRow,
} from './fakes.ts';

/**
 * The fakes and moves the Pix and boleto tests share: a clock the test moves, the customer's
 * request (again, with its key), the payment service's webhook, the sweep (a recovery run), and
 * what the row and the services hold.
 */

export const OPTIONS: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 3,
  maxAgeHours: 24,
  settleDelayMs: 0,
};
export const DOCUMENT = '52998224725';
export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** The fakes on a clock the test moves (`at(ms after FIXED_NOW)`); Pix issued as `pix_0001`. */
export function asyncFakes() {
  let now = FIXED_NOW.getTime();
  const fakes = createSagaFakes({ clock: { now: () => new Date(now) } });
  fakes.payment.transactionId = 'pix_0001';
  const at = (msAfterStart: number) => {
    now = FIXED_NOW.getTime() + msAfterStart;
  };
  return { ...fakes, at };
}

export type AsyncFakes = ReturnType<typeof asyncFakes>;

const cartOf = (method: 'pix' | 'boleto') => ({
  ...sampleCart(),
  card: null,
  method,
  asyncTerms: { method },
});

const secretsOf = (method: 'pix' | 'boleto'): PaymentSecrets => ({
  instrument: method === 'pix' ? { type: 'pix' } : { type: 'boleto', payerName: 'Maria Silva' },
  customerDocument: DOCUMENT,
});

/** The customer's request (again), with its key: a Pix, or a boleto. */
export const post = (fakes: SagaFakes, boleto = false) => {
  const method = boleto ? 'boleto' : 'pix';
  const command = { cart: cartOf(method), secrets: secretsOf(method), idempotency: claim() };
  return processCheckout(fakes.deps, command, fakes.budget);
};

/** The payment service's event for the checkout. */
export const event = (
  type = 'payment.paid',
  eventId = 'evt_1',
  transactionId = 'pix_0001',
): PaymentEvent => ({
  eventId,
  type,
  transactionId,
  checkoutId: ID,
  occurredAt: FIXED_NOW.toISOString(),
});

export const webhook = (fakes: SagaFakes, e = event()) =>
  receivePaymentEvent(fakes.deps, e, { ...fakes.budget, worker: 'webhook:test' });

export const sweep = (fakes: SagaFakes) =>
  recoverAbandoned(fakes.deps, OPTIONS, { ...fakes.budget, worker: 'recovery:test' });

export const status = (fakes: SagaFakes) => storedRow(fakes, ID).checkout.status;
export const charge = (fakes: SagaFakes) => fakes.payment.charges.get(ID)?.[0]?.status;
export const stock = (fakes: SagaFakes) => fakes.inventory.deductions.get(ID)?.map((d) => d.status);
export const calls = (fakes: SagaFakes, name: string) =>
  fakes.log.filter((c) => c.name === name).map((c) => c.input);

/** A Pix (or boleto) recorded and issued: 202 `awaiting_payment`. */
export async function issued(fakes: AsyncFakes = asyncFakes(), boleto = false) {
  outcomeOfKind(await post(fakes, boleto), 'awaiting');
  return fakes;
}
