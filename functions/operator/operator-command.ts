// Operator function → use cases: the commands an operator sends, as one zod schema shared by
// the operator Lambda's event and `npm run checkouts` (whose arguments become the same object).
import * as z from 'zod/mini';
import type { CheckoutStatus } from '#lib/checkout/checkout.ts';
import type { ErrorDetail } from '#lib/errors.ts';

export const CHECKOUT_STATUSES = [
  'pending',
  'payment_processed',
  'payment_authorized',
  'inventory_deducted',
  'order_created',
  'awaiting_payment',
  'compensating',
  'completed',
  'failed',
  'expired',
  'requires_attention',
] as const satisfies readonly CheckoutStatus[];

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,6})(s|m|h|d)$/;

/** `30s`, `15m`, `2h`, `1d` in milliseconds; `undefined` for anything else. */
export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const [, amount = '', unit = 's'] = match;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

const STATUS = { error: `must be one or more of ${CHECKOUT_STATUSES.join(', ')}` };
const status = z.enum(CHECKOUT_STATUSES, STATUS);
const checkoutId = z.uuid({ error: 'must be a checkout id (a UUID)' });
const duration = z.pipe(
  z
    .string()
    .check(z.refine((text) => durationMs(text) !== undefined, 'must be like 30s, 15m, 2h or 1d')),
  z.transform((text) => durationMs(text) ?? 0),
);
/** Who acts, named in the checkout's history as `operator:<by>`. */
const OPERATOR_NAME = 'must name who acts: 1 to 64 letters, digits or . _ @ + -';
const operatorName = z
  .string({ error: OPERATOR_NAME })
  .check(z.regex(/^[\w.@+-]{1,64}$/, OPERATOR_NAME));
const NOTE_REQUIRED = 'a resolution needs a note saying what was done';
const note = z.string({ error: NOTE_REQUIRED }).check(
  z.trim(),
  z.minLength(1, NOTE_REQUIRED),
  z.maxLength(500),
  z.refine((s) => !/\p{Cc}/u.test(s), 'must be printable text'),
);

export const operatorCommandSchema = z.discriminatedUnion(
  'command',
  [
    z.strictObject({
      command: z.literal('list'),
      /** One state or several; by default those that need a person or are not finished. */
      status: z.optional(z.union([status, z.array(status).check(z.minLength(1))], STATUS)),
      /** Only checkouts created at least this long ago. */
      olderThan: z.optional(duration),
      limit: z.optional(
        z
          .int({ error: 'must be a whole number' })
          .check(z.minimum(1, 'must be at least 1'), z.maximum(1_000, 'must be at most 1000')),
      ),
      by: z.optional(operatorName),
    }),
    z.strictObject({
      command: z.literal('show'),
      id: checkoutId,
      by: z.optional(operatorName),
    }),
    z.strictObject({ command: z.literal('retry'), id: checkoutId, by: operatorName }),
    z.strictObject({
      command: z.literal('resolve'),
      id: checkoutId,
      by: operatorName,
      as: z.enum(['failed', 'completed'], { error: 'must be failed or completed' }),
      note,
      /** Record it although the services' records disagree or cannot be read. */
      force: z.optional(z.boolean({ error: 'must be true or false' })),
    }),
  ],
  { error: 'must be list, show, retry or resolve' },
);

/** A command as sent (`olderThan: '15m'`). */
export type OperatorEvent = z.input<typeof operatorCommandSchema>;
/** A command once validated (`olderThan` in milliseconds). */
export type OperatorCommand = z.output<typeof operatorCommandSchema>;

/** The answer to a command that was not understood; nothing was read or changed. */
export interface InvalidCommand {
  error: 'validation_error';
  message: string;
  details: ErrorDetail[];
}

/** Validates an operator command: the command, or why it is not one. */
export function parseOperatorCommand(
  input: unknown,
): { command: OperatorCommand } | { invalid: InvalidCommand } {
  const parsed = operatorCommandSchema.safeParse(input);
  if (parsed.success) return { command: parsed.data };
  const details = parsed.error.issues.map((issue) => ({
    path: issue.path.join('.') || 'event',
    message:
      issue.code === 'unrecognized_keys'
        ? `unknown field(s): ${issue.keys.join(', ')}`
        : issue.message,
  }));
  const message = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  return { invalid: { error: 'validation_error', message, details } };
}
