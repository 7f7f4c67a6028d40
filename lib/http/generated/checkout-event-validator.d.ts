// The precompiled Ajv validator of the checkout event (see dev/schemas/checkout-event-validator-source.ts).
import type { ErrorObject } from 'ajv';

declare const validate: ((event: unknown) => boolean) & { errors?: ErrorObject[] | null };
export default validate;
