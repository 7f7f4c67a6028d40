import type { Checkout, PaymentSecrets } from '#lib/checkout/checkout.ts';
import type { IdempotencyClaim } from '#lib/checkout/ports.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { type RecoveryOptions, recoverCheckout } from '#lib/checkout/recovery.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  leftBehindWithKey,
  recordedCheckout,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  storedRow,
} from './fakes.ts';

/** The fakes and moves the tests of the `after_order` card flow share. */

export const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

export const claim = (): IdempotencyClaim => ({
  key: 'order-42',
  caller: 'api-key:shop-a',
  requestHash: 'hash-of-the-request',
  ttlHours: 24,
});

/** The saga's fakes with new checkouts recorded under `after_order`, authorized as `auth_0001`. */
export function afterOrder() {
  const fakes = createSagaFakes();
  fakes.deps.paymentFlow = 'after_order';
  fakes.payment.transactionId = 'auth_0001';
  return fakes;
}

/** The request with its key, as a client sends it (again). */
export const post = (
  fakes: SagaFakes,
  secrets: PaymentSecrets = sampleSecrets(),
  cart = sampleCart(),
) => processCheckout(fakes.deps, { cart, secrets, idempotency: claim() }, fakes.budget);

/** What the payment service holds for the checkout, as `[transactionId, status]` pairs. */
export const payments = (fakes: SagaFakes) =>
  (fakes.payment.charges.get(ID) ?? []).map((c) => [c.transactionId, c.status]);

export const expireLease = (fakes: SagaFakes) => {
  storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
};

/** A keyed after_order checkout left at `fields.status` by a first worker, its lease expired. */
export function leftBehind(fakes: SagaFakes, fields: Partial<Checkout> & Pick<Checkout, 'status'>) {
  const checkout = recordedCheckout(ID, {
    flow: 'after_order',
    paymentId: fields.status === 'pending' ? null : 'auth_0001',
    ...fields,
  });
  return leftBehindWithKey(fakes, checkout, claim());
}

/** One recovery run over the checkout, as `recoverAbandoned` claims it. */
export async function recover(fakes: SagaFakes, options: RecoveryOptions) {
  expireLease(fakes);
  const { leaseMs } = fakes.budget;
  const [checkout] = (await fakes.repository.claimAbandoned(1, leaseMs, 0, 'recovery:run')).claimed;
  if (!checkout) throw new Error('recovery claimed nothing');
  return recoverCheckout(fakes.deps, checkout, options, {
    ...fakes.budget,
    worker: 'recovery:run',
  });
}
