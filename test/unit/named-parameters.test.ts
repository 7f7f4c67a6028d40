import { describe, expect, it } from 'vitest';
import { toPositional } from '#lib/db/named-parameters.ts';

describe('toPositional', () => {
  it('rewrites :name placeholders to $1, $2 in order of first use', () => {
    expect(toPositional('select * from t where a = :a and b = :b', { a: 1, b: 'x' })).toEqual({
      text: 'select * from t where a = $1 and b = $2',
      values: [1, 'x'],
    });
  });

  it('reuses one position for a name that appears twice', () => {
    const { text, values } = toPositional(
      'update t set created_at = :now, updated_at = :now where id = :id',
      { now: '2026-11-24T12:00:00Z', id: 'c-1' },
    );
    expect(text).toBe('update t set created_at = $1, updated_at = $1 where id = $2');
    expect(values).toEqual(['2026-11-24T12:00:00Z', 'c-1']);
  });

  it('leaves ::type casts untouched, including right after a placeholder', () => {
    const { text, values } = toPositional(
      "select id::text, :items::jsonb, '{}'::jsonb where id = :id::uuid",
      { items: '[]', id: 'c-1' },
    );
    expect(text).toBe("select id::text, $1::jsonb, '{}'::jsonb where id = $2::uuid");
    expect(values).toEqual(['[]', 'c-1']);
  });

  it('throws, naming the parameter, when one is missing', () => {
    expect(() => toPositional('select :present, :absent', { present: 1 })).toThrow(
      'missing SQL parameter :absent',
    );
  });

  it('throws when there are no parameters at all but the SQL needs one', () => {
    expect(() => toPositional('select :x')).toThrow(':x');
  });

  it('binds each call’s own values to a statement it has rewritten before', () => {
    const sql = 'update checkouts set status = :status where id = :id and status <> :status';
    expect(toPositional(sql, { id: 'a', status: 'completed' }).values).toEqual(['completed', 'a']);
    expect(toPositional(sql, { id: 'b', status: 'failed' })).toEqual({
      text: 'update checkouts set status = $1 where id = $2 and status <> $1',
      values: ['failed', 'b'],
    });
    expect(() => toPositional(sql, { id: 'c' })).toThrow(/:status/);
  });

  it('sends an undefined value as null', () => {
    expect(toPositional('select :a, :b', { a: undefined, b: null }).values).toEqual([null, null]);
  });

  it('keeps false and 0, which are values, not absences', () => {
    expect(toPositional('select :a, :b', { a: false, b: 0 }).values).toEqual([false, 0]);
  });

  it('ignores parameters the SQL does not use', () => {
    expect(toPositional('select 1', { unused: 'x' })).toEqual({ text: 'select 1', values: [] });
  });

  it('reads names with digits and underscores whole', () => {
    const { text, values } = toPositional('select :p_1, :p_10', { p_1: 'a', p_10: 'b' });
    expect(text).toBe('select $1, $2');
    expect(values).toEqual(['a', 'b']);
  });
});
