import { badUserInput } from '../graphql/errors.js';
import type { JsonObject } from '../graphql/scalars.js';
import { requireJsonObject, requireName } from '../graphql/validate.js';
import { CommandLineError, parseCommandLine } from '../mcp/command-line.js';
import { TransportType } from './registry.enums.js';
import type {
  ServerPromptInput,
  ServerResourceInput,
  ServerToolInput,
  UpdateServerInput,
} from './server.inputs.js';

const MAX_DESCRIPTION = 4000;
const MAX_TAGS = 20;
const MAX_TAG_LENGTH = 50;
const MAX_HEADERS = 50;
const MAX_DECLARED_ITEMS = 1000;
const MAX_URI_LENGTH = 2048;
// RFC 9110 field-name token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An HTTP header name (an RFC 9110 token). */
export const isHeaderName = (name: string): boolean => HEADER_NAME.test(name);

const URL_SCHEMES: Partial<Record<TransportType, readonly string[]>> = {
  [TransportType.STREAMABLE_HTTP]: ['http:', 'https:'],
  [TransportType.SSE]: ['http:', 'https:'],
  [TransportType.WEBSOCKET]: ['ws:', 'wss:'],
};

/** An endpoint fit for its transport: a URL with the right scheme, or for STDIO a command line. */
export function requireEndpoint(value: string, transport: TransportType): string {
  const endpoint = value.trim();
  if (endpoint.length === 0 || endpoint.length > MAX_URI_LENGTH) {
    throw badUserInput(`"endpointUrl" must be 1 to ${MAX_URI_LENGTH} characters.`, 'endpointUrl');
  }
  const schemes = URL_SCHEMES[transport];
  if (schemes === undefined) return requireCommandLine(endpoint);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw badUserInput(`"endpointUrl" is not a valid URL: "${endpoint}".`, 'endpointUrl');
  }
  if (!schemes.includes(url.protocol) || url.hostname === '') {
    throw badUserInput(
      `"endpointUrl" for ${transport.toUpperCase()} must be a ${schemes.join(' or ')}// URL.`,
      'endpointUrl',
    );
  }
  return url.toString();
}

/** STDIO: the command the registry would spawn (never through a shell), so it must parse as one. */
function requireCommandLine(endpoint: string): string {
  try {
    parseCommandLine(endpoint);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    throw badUserInput(`"endpointUrl" is not a usable command line: ${error.message}`, 'endpointUrl');
  }
  return endpoint;
}

export function optionalDescription(value: string | null | undefined, field = 'description'): string | null {
  if (value == null) return null;
  const text = value.trim();
  if (text.length > MAX_DESCRIPTION)
    throw badUserInput(`"${field}" must be at most ${MAX_DESCRIPTION} characters.`, field);
  return text === '' ? null : text;
}

export function requireTags(tags: readonly string[]): string[] {
  const unique = [...new Set(tags.map((tag) => tag.trim()))];
  if (unique.length > MAX_TAGS) throw badUserInput(`At most ${MAX_TAGS} tags.`, 'tags');
  for (const tag of unique) {
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
      throw badUserInput(`Each tag must be 1 to ${MAX_TAG_LENGTH} characters.`, 'tags');
    }
  }
  return unique;
}

/** Connection headers: an object of header names to string values, without line breaks. */
export function requireHeaders(value: unknown): Record<string, string> {
  const headers = requireJsonObject(value, 'headers', 16 * 1024);
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw badUserInput(`At most ${MAX_HEADERS} headers.`, 'headers');
  for (const [name, headerValue] of entries) {
    if (!isHeaderName(name)) throw badUserInput(`"${name}" is not a valid header name.`, 'headers');
    if (typeof headerValue !== 'string' || /[\r\n]/.test(headerValue)) {
      throw badUserInput(`Header "${name}" must be a single-line string.`, 'headers');
    }
  }
  return headers as Record<string, string>;
}

export function requireFailureThreshold(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw badUserInput('"failureThreshold" must be between 1 and 100.', 'failureThreshold');
  }
  return value;
}

function requireUniqueNames(names: readonly string[], field: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw badUserInput(`"${field}" lists "${name}" twice.`, field);
    seen.add(name);
  }
}

function requireCount(items: readonly unknown[], field: string): void {
  if (items.length > MAX_DECLARED_ITEMS) throw badUserInput(`At most ${MAX_DECLARED_ITEMS} ${field}.`, field);
}

export interface DeclaredTool {
  readonly name: string;
  readonly description: string | null;
  readonly toolSchema: JsonObject;
}

export function requireTools(tools: readonly ServerToolInput[]): DeclaredTool[] {
  requireCount(tools, 'tools');
  const declared = tools.map((tool) => ({
    name: requireName(tool.name, 'tools.name'),
    description: optionalDescription(tool.description, 'tools.description'),
    toolSchema:
      tool.toolSchema == null ? { type: 'object' } : requireJsonObject(tool.toolSchema, 'tools.toolSchema'),
  }));
  requireUniqueNames(
    declared.map((tool) => tool.name),
    'tools',
  );
  return declared;
}

export interface DeclaredResource {
  readonly uriTemplate: string;
  readonly name: string | null;
  readonly mimeType: string | null;
}

export function requireResources(resources: readonly ServerResourceInput[]): DeclaredResource[] {
  requireCount(resources, 'resources');
  return resources.map((resource) => {
    const uriTemplate = resource.uriTemplate.trim();
    if (uriTemplate.length === 0 || uriTemplate.length > MAX_URI_LENGTH) {
      throw badUserInput(
        `Each resource "uriTemplate" must be 1 to ${MAX_URI_LENGTH} characters.`,
        'resources',
      );
    }
    return {
      uriTemplate,
      name: resource.name == null ? null : requireName(resource.name, 'resources.name'),
      mimeType: resource.mimeType == null ? null : requireName(resource.mimeType, 'resources.mimeType'),
    };
  });
}

export interface DeclaredPrompt {
  readonly name: string;
  readonly description: string | null;
}

export function requirePrompts(prompts: readonly ServerPromptInput[]): DeclaredPrompt[] {
  requireCount(prompts, 'prompts');
  const declared = prompts.map((prompt) => ({
    name: requireName(prompt.name, 'prompts.name'),
    description: optionalDescription(prompt.description, 'prompts.description'),
  }));
  requireUniqueNames(
    declared.map((prompt) => prompt.name),
    'prompts',
  );
  return declared;
}

/** The fields of an update, validated; absent fields stay undefined. */
export interface ServerChanges {
  readonly name?: string;
  readonly description?: string | null;
  readonly endpointUrl?: string;
  readonly transportType?: TransportType;
  readonly tags?: string[];
  /** `null` drops the stored headers. */
  readonly headers?: Record<string, string> | null;
  readonly failureThreshold?: number;
}

export function validateServerChanges(
  input: UpdateServerInput,
  current: { endpointUrl: string; transportType: TransportType },
): ServerChanges {
  const transportType = input.transportType ?? undefined;
  const endpointChanges = input.endpointUrl != null || transportType !== undefined;
  return {
    name: input.name == null ? undefined : requireName(input.name, 'name'),
    description: input.description === undefined ? undefined : optionalDescription(input.description),
    // A new transport must suit the (new or current) endpoint, and the other way round.
    endpointUrl: endpointChanges
      ? requireEndpoint(input.endpointUrl ?? current.endpointUrl, transportType ?? current.transportType)
      : undefined,
    transportType,
    tags: input.tags == null ? undefined : requireTags(input.tags),
    headers:
      input.headers === undefined ? undefined : input.headers === null ? null : requireHeaders(input.headers),
    failureThreshold:
      input.failureThreshold == null ? undefined : requireFailureThreshold(input.failureThreshold),
  };
}
