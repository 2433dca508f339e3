import type { ApolloServerPlugin } from '@apollo/server';
import { type ASTVisitor, GraphQLError, type ValidationContext } from 'graphql';
import { ErrorCode } from './errors.js';

/**
 * PostgreSQL cannot hold U+0000 in text or JSON, and a query that carries one breaks the wire protocol, so
 * a request with the NUL character anywhere in its strings is refused before anything runs.
 */
const MESSAGE = 'Text must not contain the NUL character (U+0000).';

const nulCharacterError = (nodes?: GraphQLError['nodes']) =>
  new GraphQLError(MESSAGE, { nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } });

/** Whether any string in a JSON value (keys included) holds U+0000. Iterative: values may be nested deep. */
export function containsNulCharacter(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (next.includes('\u0000')) return true;
    } else if (Array.isArray(next)) {
      pending.push(...next);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, item] of Object.entries(next)) {
        if (key.includes('\u0000')) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/** String literals in the document. */
export function NoNulCharacterRule(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (node.value.includes('\u0000')) context.reportError(nulCharacterError([node]));
    },
  };
}

/** The errors for variables holding U+0000 (none when they hold none), for transports outside Apollo. */
export function nulCharacterErrors(variables: unknown): GraphQLError[] {
  return containsNulCharacter(variables) ? [nulCharacterError()] : [];
}

/** Variables, over HTTP: refused with 400 before execution. */
export function nulCharacterPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          if (!containsNulCharacter(request.variables)) return;
          throw new GraphQLError(MESSAGE, {
            extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
          });
        },
      };
    },
  };
}
