import * as createCheckouts from './0001-create-checkouts.ts';

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
];
