import type { MinorUnits } from '../money.ts';
import type {
  Checkout,
  CheckoutFailure,
  CheckoutStatus,
  LineItem,
  PaymentCard,
  SagaStep,
  ShippingAddress,
} from './checkout.ts';

/**
 * The saga's ports. Adapters in `lib/clients` and `lib/db` implement them; unit tests pass fakes.
 * Every downstream call is keyed by the checkout id, so repeating one never acts twice.
 */
export interface PaymentService {
  charge(input: {
    checkoutId: string;
    amountCents: MinorUnits;
    currency: string;
    card: PaymentCard;
    customerEmail: string;
  }): Promise<{ transactionId: string }>;
  refund(input: {
    checkoutId: string;
    transactionId: string;
    amountCents: MinorUnits;
    currency: string;
    reason: string;
  }): Promise<void>;
}

export interface InventoryService {
  deduct(input: { checkoutId: string; items: LineItem[] }): Promise<void>;
  release(input: { checkoutId: string; items: LineItem[] }): Promise<void>;
}

export interface OrderService {
  create(input: {
    checkoutId: string;
    customerEmail: string;
    shippingAddress: ShippingAddress;
    items: LineItem[];
    totalCents: MinorUnits;
    currency: string;
    paymentId: string;
  }): Promise<{ orderId: string }>;
}

/** The stored HTTP answer of a finished checkout (replayed byte for byte). */
export interface StoredResponse {
  statusCode: number;
  body: string;
}

/** The fields a saga step may change; absent fields are left as they are. */
export interface CheckoutChanges {
  status: CheckoutStatus;
  paymentId?: string;
  orderId?: string;
  failure?: CheckoutFailure;
  undoFailures?: string[];
  response?: StoredResponse;
}

export interface CheckoutRepository {
  /** Records a new checkout before any downstream call, holding a lease until `lockedUntil`. */
  insert(checkout: Checkout, lockedUntil: Date): Promise<void>;
  /** Moves a checkout to its next recovery point: one write per step. */
  update(id: string, changes: CheckoutChanges): Promise<void>;
  findById(id: string): Promise<Checkout | undefined>;
}

/** Counts of how checkouts end, for dashboards and alarms. */
export interface CheckoutMetrics {
  outcome(
    status: 'completed' | 'failed' | 'requires_attention' | 'incomplete',
    failedStep?: SagaStep,
  ): void;
}

export interface Clock {
  now(): Date;
}

/** The minimal logger the domain needs; Powertools' Logger fits it. */
export interface SagaLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
