import { badUserInput } from '../graphql/errors.js';

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const MAX_EMAIL = 255;
// The WHATWG (HTML `type=email`) syntax, on an address already lowercased, with a dot in the domain.
const EMAIL =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Usernames and emails are stored lowercase: the unique indexes are then case-insensitive in effect, so
 * `Alice` cannot be created next to `alice` to impersonate her.
 */
export function requireUsername(value: string): string {
  const username = value.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw badUserInput(
      '"username" must be 1 to 100 of a-z, 0-9, ".", "_" and "-", starting with a letter or digit.',
      'username',
    );
  }
  return username;
}

export function requireEmail(value: string): string {
  const email = value.trim().toLowerCase();
  if (email.length > MAX_EMAIL || !EMAIL.test(email)) {
    throw badUserInput(
      `"email" must be an email address such as ada@example.com (at most ${MAX_EMAIL} characters).`,
      'email',
    );
  }
  return email;
}

/** An optional single-line text: trimmed, empty means absent. */
export function optionalText(
  value: string | null | undefined,
  field: string,
  maxLength: number,
): string | null {
  if (value == null) return null;
  const text = value.trim();
  if (text.length > maxLength || CONTROL_CHARACTERS.test(text)) {
    throw badUserInput(`"${field}" must be a single line of at most ${maxLength} characters.`, field);
  }
  return text === '' ? null : text;
}
