import { Duration } from 'aws-cdk-lib';
import type { CardFlow } from '#lib/checkout/checkout.ts';

/**
 * How the checkout function takes cards, as `lib/config.ts` reads it: `PAYMENT_CAPTURE`,
 * `ACCEPT_RAW_CARDS`, `MIN_INSTALLMENT_AMOUNT`. The stack checks the values at synth, so a
 * deploy never ships a function that refuses to start.
 */

/**
 * Every `PAYMENT_CAPTURE`: `after_order` (authorize, deduct, create the order, capture) or
 * `immediate` (the seed's one-shot charge). A record over lib's `CardFlow`, so a flow added
 * there fails typecheck here.
 */
const CAPTURES: Record<CardFlow, true> = { after_order: true, immediate: true };
export const PAYMENT_CAPTURES = Object.keys(CAPTURES) as CardFlow[];
export const DEFAULT_PAYMENT_CAPTURE: CardFlow = 'after_order';

/** `MIN_INSTALLMENT_AMOUNT` as `lib/config.ts` takes it: BRL, at most 2 decimals (`5.00`). */
export const MIN_INSTALLMENT_AMOUNT_PATTERN = /^\d{1,7}(\.\d{1,2})?$/;

/**
 * How long a card-not-present authorization can be captured: 7 days at Stripe (some acquirers
 * allow less). The authorization-age alarm must fire well before.
 */
export const AUTHORIZATION_LIFETIME = Duration.days(7);

/** `authorizationAlarmHours`: 4 of the 7 days, leaving 3 to capture or void. */
export const DEFAULT_AUTHORIZATION_ALARM_HOURS = 96;

/**
 * The authorization-age alarm's threshold, checked against the sweep: recovery writes the age
 * after each run only, so the alarm can fire up to one sweep interval late, and must still fire
 * before the authorization expires.
 */
export function authorizationAlarmThreshold(hours: number, recoveryInterval: Duration): Duration {
  const lifetimeHours = AUTHORIZATION_LIFETIME.toHours();
  if (!Number.isInteger(hours) || hours < 1) {
    throw new Error(
      `authorizationAlarmHours: expected a whole number of hours of at least 1, got ${hours}`,
    );
  }
  if (hours * 60 + recoveryInterval.toMinutes() >= lifetimeHours * 60) {
    throw new Error(
      `authorizationAlarmHours: ${hours} h plus the recovery sweep's interval ` +
        `(${recoveryInterval.toHumanString()}) must stay under the ${lifetimeHours} h a ` +
        'card-not-present authorization lasts (7 days at Stripe): the alarm would fire only ' +
        'after it expired',
    );
  }
  return Duration.hours(hours);
}
