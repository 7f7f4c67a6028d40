import type { PaymentEntry } from './paid-stubs.ts';

/**
 * Which payment of a checkout `npm run pay` may pay, from what the payment service's lookup
 * lists: a `pending` Pix or boleto; with `--late` also a `cancelled` or `expired` one (the bank
 * took the money after the checkout gave up on it). Anything else is said, never paid.
 */

/** Raised for what the user can fix: said plainly, no stack trace, exit code 1. */
export class PayRefused extends Error {
  override readonly name = 'PayRefused';
}

/** What the payment service lists for the checkout (`GET /payments?checkout_id=`). */
export async function readPayments(
  paymentUrl: string,
  checkoutId: string,
): Promise<PaymentEntry[]> {
  const url = `${paymentUrl}/payments?checkout_id=${encodeURIComponent(checkoutId)}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (error) {
    throw new PayRefused(
      `cannot reach the payment WireMock at ${paymentUrl} (${causeOf(error)}): is \`npm start\` running? ` +
        'Elsewhere set PAYMENT_SERVICE_URL or WIREMOCK_BASE_PORT.',
    );
  }
  const text = await res.text();
  const payments = res.status === 200 ? parsePayments(text) : undefined;
  if (!payments) {
    throw new PayRefused(`the payment lookup ${url} answered HTTP ${res.status}: ${text}`);
  }
  return payments;
}

function parsePayments(text: string): PaymentEntry[] | undefined {
  try {
    const { payments } = JSON.parse(text) as { payments?: unknown };
    return Array.isArray(payments) ? (payments as PaymentEntry[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The error's network cause (ECONNREFUSED, …), else its message. */
export function causeOf(error: unknown): string {
  return (
    (error as { cause?: { code?: string } }).cause?.code ??
    (error instanceof Error ? error.message : String(error))
  );
}

const PAYABLE = ['pending'];
const PAYABLE_LATE = ['pending', 'cancelled', 'expired'];

/** The entry to pay, or a `PayRefused` saying what the checkout holds instead. */
export function payableEntry(checkoutId: string, payments: PaymentEntry[], late: boolean) {
  const statuses = late ? PAYABLE_LATE : PAYABLE;
  const entry = payments.find((p) => statuses.includes(p.status));
  if (entry) return entry;
  const held =
    payments.length === 0
      ? 'the payment service holds no payment for it'
      : `the payment service holds ${payments.map((p) => `${p.transactionId} ${p.status}`).join(', ')}`;
  const hint = late
    ? 'npm run pay -- <id> --late pays a pending, cancelled or expired Pix or boleto'
    : payments.some((p) => PAYABLE_LATE.includes(p.status))
      ? 'add --late to pay a cancelled or expired one (a payment that came after the checkout gave up)'
      : 'npm run pay pays a pending Pix or boleto (add --late for a cancelled or expired one)';
  return new PayRefused(`checkout ${checkoutId}: ${held}; ${hint}`);
}
