import type { Checkout } from './checkout.ts';
import type { CheckoutRepository } from './ports.ts';

/**
 * Use case of `GET /checkout/{id}`: the checkout as it stands now, if `caller` recorded it;
 * `undefined` if there is none, or if it is another caller's (or nobody's known, a row from
 * before callers were recorded): a shop cannot learn that someone else's checkout exists, let
 * alone its customer. Operators read any checkout through their own use cases. What a shop
 * may see of it is the presenter's choice.
 */
export async function readCheckout(
  deps: { repository: Pick<CheckoutRepository, 'findById'> },
  id: string,
  caller: string,
): Promise<Checkout | undefined> {
  const checkout = await deps.repository.findById(id);
  return checkout?.caller === caller ? checkout : undefined;
}
