import { checkoutRequestSchema } from '#lib/checkout/request-schema.ts';
import { seedRequest } from '../../scripts/seed-request.ts';

/**
 * Bodies with every field the request schema knows, optional ones included: one for each kind
 * of payment method (the branches of `payment_method`: raw card, token, Pix, boleto).
 */
const FULL_BODIES: Record<string, unknown>[] = [
  {
    payment_method: {
      type: 'credit_card',
      card_number: '4111111111111111',
      card_expiry: '12/30',
      card_cvv: '123',
      installments: 3,
    },
    customer_email: 'customer@example.com',
    customer_name: 'Ana Souza',
    customer_document: '529.982.247-25',
    shipping_address: {
      street: 'Rua das Flores',
      number: '123',
      complement: 'Apto 42',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: [{ product_id: 'prod_001', quantity: 2, price: 99.9 }],
    currency: 'BRL',
  },
  {
    payment_method: { type: 'card_token', token: 'tok_visa', installments: 3 },
    customer_email: 'customer@example.com',
    shipping_address: {
      street: 'Rua das Flores',
      number: '123',
      city: 'SP',
      state: 'SP',
      zip_code: '1',
    },
    items: [{ product_id: 'prod_001', quantity: 2 }],
  },
  {
    ...seedRequest(),
    payment_method: { type: 'pix', expires_in_minutes: 30 },
    customer_document: '529.982.247-25',
  },
  {
    ...seedRequest(),
    payment_method: { type: 'boleto', due_in_days: 3 },
    customer_name: 'Ana Souza',
    customer_document: '529.982.247-25',
    shipping_address: { ...seedRequest().shipping_address, neighborhood: 'Jardim Paulista' },
  },
];

/** Fresh copies of those bodies, for tests to change. */
export const fullBodies = (): Record<string, unknown>[] => structuredClone(FULL_BODIES);

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
};

/** Every place of a body `schema` describes, as a path whose array indices are `*`. */
export function schemaPaths(schema: JsonSchema, prefix: string[] = []): string[][] {
  const own = [
    ...Object.entries(schema.properties ?? {}).flatMap(([name, property]) => [
      [...prefix, name],
      ...schemaPaths(property, [...prefix, name]),
    ]),
    ...(schema.items ? [[...prefix, '*'], ...schemaPaths(schema.items, [...prefix, '*'])] : []),
    ...(schema.oneOf ?? []).flatMap((branch) => schemaPaths(branch, prefix)),
  ];
  const seen = new Set<string>();
  return own.filter((path) => {
    const key = path.join('/');
    return !seen.has(key) && Boolean(seen.add(key));
  });
}

/** `body` with the value at `path` (indices as `*` meaning the first) set to `value`. */
function withValueAt(body: unknown, path: string[], value: unknown): unknown | undefined {
  if (path.length === 0) return value;
  const copy = structuredClone(body) as Record<string, unknown>;
  let parent: Record<string, unknown> = copy;
  for (const [index, segment] of path.entries()) {
    const key = segment === '*' ? '0' : segment;
    if (typeof parent !== 'object' || parent === null || !(key in parent)) return undefined;
    if (index === path.length - 1) parent[key] = value;
    else parent = parent[key] as Record<string, unknown>;
  }
  return copy;
}

/**
 * What zod says of each field of `schema` when its value is not what the field expects (the
 * same whatever is wrong with it: type, shape, length or range), keyed by the field's path
 * with `/` between segments and `*` for an array index (`items/*\/quantity`; `` for the body).
 * Read by asking zod itself about a body with `null` there (no field takes `null`), so the
 * JSON Schema validator can say exactly what zod says. Fails on a field zod says nothing
 * readable about, or no body above has.
 */
export function fieldMessages(schema: JsonSchema): Record<string, string> {
  const messages: Record<string, string> = {};
  for (const path of [[], ...schemaPaths(schema)]) {
    const key = path.join('/');
    const said = new Set<string>();
    for (const full of FULL_BODIES) {
      const body = withValueAt(full, path, null);
      if (body === undefined) continue;
      const result = checkoutRequestSchema.safeParse(body);
      const issue = result.error?.issues.find(
        (i) => i.path.map((s) => (typeof s === 'number' ? '*' : String(s))).join('/') === key,
      );
      if (issue) said.add(issue.message);
    }
    const [message, ...others] = [...said];
    if (!message || others.length > 0 || message === 'Invalid input' || message === 'required') {
      throw new Error(
        `no single readable message for ${key || 'the body'}: ${JSON.stringify([...said])} (give it one in lib/checkout/request-schema.ts, or add the field to FULL_BODIES)`,
      );
    }
    messages[key] = message;
  }
  return messages;
}
