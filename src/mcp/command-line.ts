/** Why a stored command line cannot be split into a program and its arguments. */
export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

const DOUBLE_QUOTED_ESCAPES = new Set(['"', '\\', '$', '`']);

/**
 * Splits a command line into words the way a POSIX shell does, and nothing more: the words are handed to
 * the program as they are, never to a shell, so `$VAR`, globs, `;`, `|` and redirections are plain
 * characters. Single quotes keep everything up to the next single quote; inside double quotes a backslash
 * escapes `"`, `\`, `$` and `` ` `` only; elsewhere a backslash escapes any character.
 * @throws CommandLineError for an unterminated quote, a trailing backslash or an empty line.
 */
export function parseCommandLine(line: string): [string, ...string[]] {
  const words: string[] = [];
  let word: string | null = null; // null between words, so that '' is an (empty) word
  let quote: "'" | '"' | null = null;
  for (let index = 0; index < line.length; index += 1) {
    const char = line.charAt(index);
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (quote === '"') {
      const next = line.charAt(index + 1);
      if (char === '"') quote = null;
      else if (char === '\\' && DOUBLE_QUOTED_ESCAPES.has(next)) {
        word += next;
        index += 1;
      } else word += char;
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word ??= '';
      if (char === "'" || char === '"') quote = char;
      else if (char !== '\\') word += char;
      else if (index + 1 < line.length) {
        index += 1;
        word += line.charAt(index);
      } else throw new CommandLineError('the command line ends with a lone backslash');
    }
  }
  if (quote !== null) {
    throw new CommandLineError(
      `the command line has an unterminated ${quote === "'" ? 'single' : 'double'} quote`,
    );
  }
  if (word !== null) words.push(word);
  const [command, ...args] = words;
  if (command === undefined || command === '')
    throw new CommandLineError('the command line names no program');
  return [command, ...args];
}
