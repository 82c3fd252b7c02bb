// The pieces of server/store/sql.ts that both engines lean on: placeholders numbered for PostgreSQL
// outside quoted text only, and a program driven alike by the synchronous and the asynchronous runner,
// an error thrown into it where it can be caught.
import { describe, expect, it } from 'vitest';
import { get, numbered, type Op, type Program, run, runAsync, runSync } from '../../server/store/sql.js';

describe('numbered placeholders', () => {
  it('numbers each ? in order and leaves those inside quoted text alone', () => {
    expect(numbered("SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' AND d IN (?, ?)")).toBe(
      "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d IN ($3, $4)",
    );
    expect(numbered(`SELECT '?' AS "q?", ? AS x`)).toBe(`SELECT '?' AS "q?", $1 AS x`);
  });
});

describe('programs', () => {
  function* program(): Program<string> {
    const row = yield* get<{ n: number }>('SELECT ? AS n', 1);
    try {
      yield* run('BROKEN');
    } catch (error) {
      return `${row?.n}:${(error as Error).message}`;
    }
    return 'not reached';
  }
  const answer = (op: Op) => {
    if (op.sql === 'BROKEN') throw new Error('refused');
    return { n: op.params[0] };
  };

  it('run the same way synchronously and asynchronously, errors included', async () => {
    expect(runSync(program(), answer)).toBe('1:refused');
    expect(await runAsync(program(), async (op) => answer(op))).toBe('1:refused');
  });
});
