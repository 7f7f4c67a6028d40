import type { SagaStep } from './checkout.ts';

/** Who a call went to: a saga step's service, or the catalog that prices a cart. */
export type ServiceName = SagaStep | 'catalog';

/**
 * What a downstream call can end in besides success. The three are told apart because the
 * saga treats them differently: a refusal is final, an unavailable service did not act, and
 * an unknown outcome may have acted (so it is neither retried blindly nor called failed).
 */
export abstract class ServiceCallError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The service said no for good: declined card, out of stock, invalid address. */
export class ServiceRefusedError extends ServiceCallError {
  override readonly name = 'ServiceRefusedError';
}

/** No try reached the service (connection refused, host not found): it cannot have acted. */
export class ServiceUnavailableError extends ServiceCallError {
  override readonly name = 'ServiceUnavailableError';
}

/** A try reached the service but no usable answer came back (a 5xx, a timeout, a reset, garbage): it may have acted. */
export class ServiceOutcomeUnknownError extends ServiceCallError {
  override readonly name = 'ServiceOutcomeUnknownError';
}
