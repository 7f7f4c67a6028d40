import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { checkoutView } from '#lib/checkout/checkout-result.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { checkoutIdSchema } from '#lib/checkout/request-schema.ts';
import { NotFoundError, ValidationError } from '#lib/errors.ts';
import checkoutEventValidator from '#lib/http/generated/checkout-event-validator.js';
import { httpFunction, withJsonBody } from '#lib/http/http-function.ts';
import { readIdempotencyKey } from '#lib/http/idempotency-key.ts';
import { jsonResponse, resultResponse } from '#lib/http/responses.ts';

/** `POST /checkout/process`: validate, record (claiming the key), run the saga, answer. */
const processRoute = withJsonBody(async (event, context) => {
  const { config, saga } = await getApp();
  const key = readIdempotencyKey(event, config.requireIdempotencyKey);
  const { order, card, requestHash } = parseCheckoutRequest(event.body);
  const idempotency =
    key === undefined ? undefined : { key, requestHash, ttlHours: config.idempotencyTtlHours };
  const budget = workBudget(config.leaseMs, context.getRemainingTimeInMillis());
  return resultResponse(await processCheckout(saga, { order, card, idempotency }, budget));
}, checkoutEventValidator);

/** `GET /checkout/{id}`: the checkout's current state, without card data. */
const getRoute = async (event: APIGatewayProxyEvent) => {
  const id = checkoutIdSchema.safeParse(event.pathParameters?.id);
  if (!id.success) {
    throw new ValidationError('The checkout id must be a UUID', [
      { path: 'id', message: 'must be a UUID' },
    ]);
  }
  const { saga } = await getApp();
  const checkout = await saga.repository.findById(id.data);
  if (!checkout) throw new NotFoundError('No checkout with this id');
  return jsonResponse(200, checkoutView(checkout));
};

export const handler = httpFunction(
  httpRouterHandler([
    { method: 'POST', path: '/checkout/process', handler: processRoute },
    { method: 'GET', path: '/checkout/{id}', handler: getRoute },
  ]),
);
