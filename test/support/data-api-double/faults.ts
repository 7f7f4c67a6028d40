import { DataApiError, type DataApiErrorType, defaultMessage } from './errors.ts';

export type Operation =
  | 'ExecuteStatement'
  | 'BeginTransaction'
  | 'CommitTransaction'
  | 'RollbackTransaction';

/** An error a test makes the double answer with, for the next matching calls. */
export interface Fault {
  error: DataApiErrorType;
  message?: string;
  /** How many matching calls fail (default 1). */
  times?: number;
  /** Only calls of this operation (default: any). */
  operation?: Operation;
  /** Only statements whose SQL matches (ExecuteStatement). */
  sql?: RegExp;
  /**
   * Answer the error after the call did its work (the statement ran and, outside a
   * transaction, committed; the commit happened): what a timeout or a lost answer looks like
   * to the caller. By default the call fails before doing anything, as a resume does.
   */
  afterExecuting?: boolean;
}

/** The faults still to inject, matched in the order they were added. */
export class Faults {
  private readonly pending: (Fault & { left: number })[] = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** Throws the first pending fault that matches this call at this moment, using it up. */
  check(operation: Operation, sql: string | undefined, afterExecuting: boolean): void {
    const fault = this.pending.find(
      (f) =>
        f.left > 0 &&
        Boolean(f.afterExecuting) === afterExecuting &&
        (!f.operation || f.operation === operation) &&
        (!f.sql || (sql !== undefined && f.sql.test(sql))),
    );
    if (!fault) return;
    fault.left--;
    throw new DataApiError(fault.error, fault.message ?? defaultMessage(fault.error));
  }
}
