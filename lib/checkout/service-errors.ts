import type { SagaStep } from './checkout.ts';

/**
 * What a downstream call can end in besides success. The three are told apart because the
 * saga treats them differently: a refusal is final, an unavailable service did not act, and
 * an unknown outcome may have acted (so it is neither retried blindly nor called failed).
 */
export abstract class ServiceCallError extends Error {
  constructor(
    readonly service: SagaStep,
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The service answered with a final 4xx: declined card, out of stock, invalid address. */
export class ServiceRefusedError extends ServiceCallError {
  override readonly name = 'ServiceRefusedError';
}

/** The service could not act (5xx, 408/429, refused connection) after every retry. */
export class ServiceUnavailableError extends ServiceCallError {
  override readonly name = 'ServiceUnavailableError';
}

/** The request may have been acted on but no usable answer came back (timeout, reset, garbage). */
export class ServiceOutcomeUnknownError extends ServiceCallError {
  override readonly name = 'ServiceOutcomeUnknownError';
}
