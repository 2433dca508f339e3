import picomatch from 'picomatch';
import { badUserInput } from '../graphql/errors.js';
import type { JsonObject, JsonValue } from '../graphql/scalars.js';
import { requireJsonObject } from '../graphql/validate.js';

/**
 * Which calls a routing rule applies to. Every key given must match; `{}` matches every call (a tenant's
 * default route).
 * - `toolName`: a glob (picomatch: `*` any run of characters, `?` one character, `[a-z]`, `{a,b}`) or a
 *   list of globs, any of which matches the called tool's name, e.g. `"search*"` or `["search*", "fetch"]`.
 * - `arguments`: top-level arguments the call must carry with exactly these JSON values,
 *   e.g. `{ "region": "eu" }`.
 * There is no `tags` condition: a call carries no tags; servers do, and a rule names its servers itself.
 */
export interface RuleConditions {
  readonly toolName?: readonly string[];
  readonly arguments?: Readonly<Record<string, JsonValue>>;
}

const FIELD = 'conditions';
const KNOWN_KEYS = new Set(['toolName', 'arguments']);
const MAX_PATTERNS = 20;
const MAX_PATTERN_LENGTH = 255;
const MAX_ARGUMENTS = 20;

/** Checks a rule's conditions and returns them as stored (a list of globs is kept as given). */
export function requireConditions(value: unknown): JsonObject {
  const conditions = requireJsonObject(value, FIELD, 8 * 1024);
  const unknown = Object.keys(conditions).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw badUserInput(
      `"conditions" may hold only "toolName" (a glob or list of globs) and "arguments" (an object); ` +
        `unknown: ${unknown.map((key) => `"${key}"`).join(', ')}.`,
      FIELD,
    );
  }
  if (conditions.toolName !== undefined) toolNamePatterns(conditions.toolName);
  if (conditions.arguments !== undefined) {
    const args = conditions.arguments;
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw badUserInput('"conditions.arguments" must be an object of argument names to values.', FIELD);
    }
    if (Object.keys(args).length === 0 || Object.keys(args).length > MAX_ARGUMENTS) {
      throw badUserInput(`"conditions.arguments" must name 1 to ${MAX_ARGUMENTS} arguments.`, FIELD);
    }
  }
  return conditions;
}

function toolNamePatterns(value: JsonValue): string[] {
  const patterns = typeof value === 'string' ? [value] : value;
  const valid =
    Array.isArray(patterns) &&
    patterns.length > 0 &&
    patterns.length <= MAX_PATTERNS &&
    patterns.every(
      (pattern) =>
        typeof pattern === 'string' && pattern.trim() !== '' && pattern.length <= MAX_PATTERN_LENGTH,
    );
  if (!valid) {
    throw badUserInput(
      `"conditions.toolName" must be a glob such as "search*" or a list of 1 to ${MAX_PATTERNS} globs, ` +
        `each 1 to ${MAX_PATTERN_LENGTH} characters.`,
      FIELD,
    );
  }
  return patterns as string[];
}

/** Reads stored conditions (validated when the rule was created). */
export function parseConditions(stored: JsonObject): RuleConditions {
  const toolName = stored.toolName;
  const args = stored.arguments;
  return {
    ...(toolName !== undefined && {
      toolName: typeof toolName === 'string' ? [toolName] : (toolName as string[]),
    }),
    ...(args !== undefined && { arguments: args as Record<string, JsonValue> }),
  };
}

/** Whether a call of `toolName` with `args` is one the conditions select. */
export function conditionsMatch(
  conditions: RuleConditions,
  toolName: string,
  args: Readonly<Record<string, unknown>>,
): boolean {
  if (conditions.toolName && !conditions.toolName.some((pattern) => globMatches(pattern, toolName))) {
    return false;
  }
  for (const [name, expected] of Object.entries(conditions.arguments ?? {})) {
    if (!(name in args) || !jsonEqual(args[name], expected)) return false;
  }
  return true;
}

/** Tool names are not paths: `*` spans every character, `/` and a leading `.` included. */
const GLOB_OPTIONS: picomatch.PicomatchOptions = { bash: true, dot: true };

export function globMatches(pattern: string, value: string): boolean {
  return picomatch.isMatch(value, pattern, GLOB_OPTIONS);
}

/** Deep equality of JSON values (object key order does not matter). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const aKeys = Object.keys(a);
  const bRecord = b as Record<string, unknown>;
  return (
    aKeys.length === Object.keys(b).length &&
    aKeys.every((key) => key in bRecord && jsonEqual((a as Record<string, unknown>)[key], bRecord[key]))
  );
}
