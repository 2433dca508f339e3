import { UniqueConstraintViolationException } from '@mikro-orm/core';

/** Whether a database error is the violation of the named unique constraint. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return error instanceof UniqueConstraintViolationException && error.message.includes(constraint);
}
