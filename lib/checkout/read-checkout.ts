import type { Checkout } from './checkout.ts';
import type { CheckoutRepository } from './ports.ts';

/**
 * Use case of `GET /checkout/{id}`: the checkout as it stands now, or `undefined` if there is
 * none. What a shop may see of it is the presenter's choice.
 */
export function readCheckout(
  deps: { repository: Pick<CheckoutRepository, 'findById'> },
  id: string,
): Promise<Checkout | undefined> {
  return deps.repository.findById(id);
}
