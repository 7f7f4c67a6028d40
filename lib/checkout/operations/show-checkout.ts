import type { Checkout } from '#lib/checkout/checkout.ts';
import type {
  CallOptions,
  ChargeRecord,
  CheckoutRepository,
  DeductionRecord,
  OrderRecord,
  Transition,
} from '#lib/checkout/ports.ts';
import type { StepServices } from '#lib/checkout/saga-steps.ts';

/** What a service holds for the checkout, or why it could not say. */
export type ServiceRecord<T> = { records: T[] } | { unknown: string };

export interface CheckoutReport {
  checkout: Checkout;
  history: Transition[];
  /** Through the outcome lookups: what each service holds for this checkout right now. */
  services: {
    payment: ServiceRecord<ChargeRecord>;
    inventory: ServiceRecord<DeductionRecord>;
    order: ServiceRecord<OrderRecord>;
  };
}

/**
 * Operator use case `show`: the checkout, its history, and what each service holds for it,
 * side by side, so a person can see whether our record and theirs agree. `undefined` if there
 * is no such checkout.
 */
export async function showCheckout(
  deps: StepServices & { repository: Pick<CheckoutRepository, 'findById' | 'history'> },
  id: string,
  options: CallOptions = {},
): Promise<CheckoutReport | undefined> {
  const checkout = await deps.repository.findById(id);
  if (!checkout) return undefined;
  const [history, services] = await Promise.all([
    deps.repository.history(id),
    lookUpServices(deps, id, options),
  ]);
  return { checkout, history, services };
}

/** What each service holds for the checkout, through its outcome lookup, asked side by side. */
export async function lookUpServices(
  deps: StepServices,
  id: string,
  options: CallOptions = {},
): Promise<CheckoutReport['services']> {
  const [payment, inventory, order] = await Promise.all([
    ask(deps.payment.findCharges(id, options)),
    ask(deps.inventory.findDeductions(id, options)),
    ask(deps.order.findOrders(id, options)),
  ]);
  return { payment, inventory, order };
}

async function ask<T>(lookup: Promise<T[]>): Promise<ServiceRecord<T>> {
  try {
    return { records: await lookup };
  } catch (error) {
    return { unknown: error instanceof Error ? error.message : String(error) };
  }
}
