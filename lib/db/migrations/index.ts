import * as createCheckouts from './0001-create-checkouts.ts';
import * as compensationFrom from './0002-compensation-from.ts';
import * as moneyScale3 from './0003-money-scale-3.ts';
import * as settleTries from './0004-settle-tries.ts';
import * as history from './0005-history.ts';
import * as requiresAttentionAnswer from './0006-requires-attention-answer.ts';
import * as checkoutCaller from './0007-checkout-caller.ts';
import * as paymentTerms from './0008-payment-terms.ts';
import * as asyncPayments from './0009-async-payments.ts';
import * as unfinishedSince from './0010-unfinished-since.ts';

export interface Migration {
  version: string;
  statements: readonly string[];
}

/**
 * Every migration, oldest first. A migration is a list of single statements (the Data API runs
 * one statement per call). Never edit one that has shipped: add the next version instead.
 */
export const migrations: readonly Migration[] = [
  { version: '0001-create-checkouts', statements: createCheckouts.statements },
  { version: '0002-compensation-from', statements: compensationFrom.statements },
  { version: '0003-money-scale-3', statements: moneyScale3.statements },
  { version: '0004-settle-tries', statements: settleTries.statements },
  { version: '0005-history', statements: history.statements },
  { version: '0006-requires-attention-answer', statements: requiresAttentionAnswer.statements },
  { version: '0007-checkout-caller', statements: checkoutCaller.statements },
  { version: '0008-payment-terms', statements: paymentTerms.statements },
  { version: '0009-async-payments', statements: asyncPayments.statements },
  { version: '0010-unfinished-since', statements: unfinishedSince.statements },
];
