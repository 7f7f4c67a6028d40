import * as createCheckouts from './0001-create-checkouts.ts';
import * as compensationFrom from './0002-compensation-from.ts';

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
];
