import { badUserInput } from './errors.js';
import type { JsonObject } from './scalars.js';

/** Trims a required name and checks its length; the error names the field. */
export function requireName(value: string, field: string, maxLength = 255): string {
  const name = value.trim();
  if (name.length === 0) throw badUserInput(`"${field}" must not be empty.`, field);
  if (name.length > maxLength)
    throw badUserInput(`"${field}" must be at most ${maxLength} characters.`, field);
  return name;
}

/** A JSON argument that must be an object (settings, conditions), with a size bound. */
export function requireJsonObject(value: unknown, field: string, maxBytes = 64 * 1024): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badUserInput(`"${field}" must be a JSON object.`, field);
  }
  if (JSON.stringify(value).length > maxBytes) {
    throw badUserInput(`"${field}" must be at most ${maxBytes} bytes of JSON.`, field);
  }
  return value as JsonObject;
}

/** Validates an id argument: ids are UUIDs, and anything else cannot name a row. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
