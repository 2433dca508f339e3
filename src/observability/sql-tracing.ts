import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import type { ExecutedStatement } from '../db/orm.js';
import { tracer } from './spans.js';

/** Longest statement text kept on a span; longer ones are cut (a page of upserts can be far longer). */
const MAX_QUERY_TEXT = 2_000;

/**
 * Records a statement as a CLIENT span of the active trace, timed by what the ORM measured. A statement with no
 * active span (timers, the health checker's bookkeeping) or of background work belongs to no operation and
 * makes no span: a trace of one SELECT says nothing.
 */
export function recordStatementSpan(statement: ExecutedStatement): void {
  const parent = context.active();
  if (statement.background || trace.getSpan(parent) === undefined) return;
  const endTime = Date.now();
  const operation = operationOf(statement.sql);
  const span = tracer.startSpan(
    operation ?? DB_SYSTEM_NAME_VALUE_POSTGRESQL,
    {
      kind: SpanKind.CLIENT,
      startTime: endTime - statement.tookMs,
      attributes: {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
        [ATTR_DB_QUERY_TEXT]:
          statement.sql.length > MAX_QUERY_TEXT
            ? `${statement.sql.slice(0, MAX_QUERY_TEXT)}…`
            : statement.sql,
        ...(operation !== undefined && { [ATTR_DB_OPERATION_NAME]: operation }),
      },
    },
    parent,
  );
  if (statement.failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(endTime);
}

/** The statement's first keyword (SELECT, INSERT, BEGIN, …), as the conventions name a span without a summary. */
function operationOf(sql: string): string | undefined {
  const keyword = /^\s*([A-Za-z]+)/.exec(sql)?.[1];
  return keyword?.toUpperCase();
}
