import type { JsonObject } from '../graphql/scalars.js';
import type { GenericVerb } from './catalog.js';

/**
 * JSON Schemas of tool arguments, built from a library of parameters the way MCP SDKs emit them
 * (draft-07, descriptions on every property, `additionalProperties: false`): a few hundred bytes each.
 */

const text = (description: string, extra: JsonObject = {}): JsonObject => ({
  type: 'string',
  description,
  ...extra,
});
const integer = (description: string, minimum: number, maximum: number, fallback?: number): JsonObject => ({
  type: 'integer',
  description,
  minimum,
  maximum,
  ...(fallback === undefined ? {} : { default: fallback }),
});
const flag = (description: string, fallback: boolean): JsonObject => ({
  type: 'boolean',
  description,
  default: fallback,
});
const list = (description: string): JsonObject => ({
  type: 'array',
  description,
  items: { type: 'string' },
  maxItems: 50,
});
const choice = (description: string, values: string[]): JsonObject => ({
  type: 'string',
  description,
  enum: values,
});
const timestamp = (description: string): JsonObject => text(description, { format: 'date-time' });

/** Parameters by name; `{noun}` is replaced by what a generic tool works on. */
const PARAMETERS: Record<string, JsonObject> = {
  query: text('Search query. Supports quoted phrases and -exclusions.', { minLength: 1, maxLength: 1000 }),
  limit: integer('Maximum number of results to return.', 1, 100, 10),
  cursor: text('Opaque cursor from a previous page; omit it for the first page.'),
  url: text('Absolute http(s) URL.', { format: 'uri', maxLength: 2048 }),
  max_length: integer('Maximum number of characters to return.', 100, 100000, 5000),
  start_index: integer('Character offset to start from, to continue a truncated answer.', 0, 10000000, 0),
  raw: flag('Return the raw body instead of markdown.', false),
  language: text('BCP 47 language tag, e.g. en or pt-BR.', { pattern: '^[a-z]{2,3}(-[A-Za-z0-9]+)*$' }),
  safe_search: choice('Filtering of explicit results.', ['off', 'moderate', 'strict']),
  width: integer('Viewport width in pixels.', 320, 3840, 1280),
  height: integer('Viewport height in pixels.', 240, 2160, 800),
  full_page: flag('Capture the whole scrollable page.', false),
  same_origin: flag('Only links to the same origin.', true),
  max_pages: integer('Stop after this many pages.', 1, 500, 20),
  max_depth: integer('How many levels deep to go.', 1, 10, 2),
  since: timestamp('Only items at or after this time (ISO 8601).'),
  path: text('Path relative to one of the allowed root directories.', { minLength: 1, maxLength: 4096 }),
  encoding: choice('Text encoding of the file.', ['utf-8', 'latin1', 'base64']),
  content: text('Full new content. Existing content is replaced.'),
  pattern: text('Glob pattern, e.g. **/*.ts.', { minLength: 1 }),
  exclude_patterns: list('Glob patterns to leave out.'),
  edits: {
    type: 'array',
    description: 'Edits to apply in order.',
    items: {
      type: 'object',
      properties: { oldText: { type: 'string' }, newText: { type: 'string' } },
      required: ['oldText', 'newText'],
      additionalProperties: false,
    },
  },
  dry_run: flag('Show what would change without changing anything.', false),
  source: text('Current path.'),
  destination: text('New path; must not exist yet.'),
  sql: text('One SQL statement. Only SELECT is allowed on read-only connections.', { maxLength: 20000 }),
  params: { type: 'array', description: 'Values for $1, $2, ... placeholders.', items: {} },
  timeout_ms: integer('Statement timeout in milliseconds.', 100, 60000, 5000),
  schema: text('Schema name; the search path when omitted.'),
  table: text('Table name, optionally schema-qualified (schema.table).', { minLength: 1 }),
  analyze: flag('Run the query to report actual times (EXPLAIN ANALYZE).', false),
  repo: text('Repository as owner/name.', { pattern: '^[\\w.-]+/[\\w.-]+$' }),
  state: choice('Filter by state.', ['open', 'closed', 'all']),
  labels: list('Label names.'),
  title: text('Title, one line.', { minLength: 1, maxLength: 256 }),
  body: text('Body in markdown.'),
  number: integer('Issue or pull request number.', 1, 10000000),
  ref: text('Branch, tag or commit SHA; the default branch when omitted.'),
  head: text('Branch with the changes.'),
  base: text('Branch to merge into.'),
  merge_method: choice('How to merge.', ['merge', 'squash', 'rebase']),
  prune: flag('Remove remote-tracking refs that no longer exist.', true),
  channel: text('Channel id or #name.'),
  thread_id: text('Timestamp of the thread parent message.'),
  timestamp: text('Timestamp of the message.'),
  name: text('Name of the {noun}.', { minLength: 1, maxLength: 255 }),
  user_id: text('User id.'),
  region: text('Cloud region, e.g. eu-west-1.'),
  filter: text('Filter expression, e.g. status=active.'),
  id: text('Identifier of the {noun}.', { minLength: 1, maxLength: 128 }),
  namespace: text('Kubernetes namespace.', { pattern: '^[a-z0-9-]{1,63}$' }),
  label_selector: text('Label selector, e.g. app=web,tier!=cache.'),
  container: text('Container name when the pod has several.'),
  tail_lines: integer('Number of lines from the end.', 1, 10000, 200),
  replicas: integer('Desired number of replicas.', 0, 500),
  bucket: text('Bucket name.'),
  key: text('Object key.'),
  metric: text('Metric name.'),
  resource: text('Resource identifier.'),
  step: text('Resolution step, e.g. 1m or 5m.'),
  calendar_id: text('Calendar id; the primary calendar when omitted.'),
  start: timestamp('Start of the range (ISO 8601).'),
  end: timestamp('End of the range (ISO 8601).'),
  attendees: list('Email addresses of the attendees.'),
  folder_id: text('Folder to create it in.'),
  mode: choice('Replace the content or append to it.', ['replace', 'append']),
  project: text('Project key or id.'),
  assignee: text('User id or email of the assignee.'),
  due: timestamp('Due date (ISO 8601).'),
  collection: text('Collection name.'),
  min_score: { type: 'number', description: 'Leave out results scoring below this.', minimum: 0, maximum: 1 },
  question: text('The question, in natural language.'),
  severity: choice('Minimum severity.', ['info', 'warning', 'critical']),
  note: text('Note for the audit trail.'),
  email: text('Email address.', { format: 'email' }),
  customer: text('Customer id.'),
  items: {
    type: 'array',
    description: 'Line items.',
    items: {
      type: 'object',
      properties: { price: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
      required: ['price'],
    },
  },
  currency: text('ISO 4217 currency code.', { pattern: '^[a-z]{3}$' }),
  amount: integer('Amount in the smallest currency unit.', 1, 100000000),
  reason: choice('Why.', ['duplicate', 'fraudulent', 'requested_by_customer']),
  timezone: text('IANA time zone, e.g. Europe/Lisbon.'),
  time: text('Time of day, HH:MM.', { pattern: '^\\d{2}:\\d{2}$' }),
  source_timezone: text('IANA time zone of the given time.'),
  target_timezone: text('IANA time zone to convert to.'),
  location: text('City name or latitude,longitude.'),
  units: choice('Unit system.', ['metric', 'imperial']),
  days: integer('Number of days.', 1, 14, 3),
  address: text('Postal address.'),
  expression: text('Arithmetic expression, e.g. (2 + 3) * 4.'),
  prompt: text('What to draw.', { maxLength: 4000 }),
  size: choice('Image size.', ['256x256', '512x512', '1024x1024']),
  style: choice('Visual style.', ['natural', 'vivid']),
  target_language: text('Language to translate to (BCP 47).'),
  source_language: text('Language of the text; detected when omitted.'),
  text: text('The text.', { minLength: 1 }),
  format: choice('Output format.', ['json', 'csv', 'ndjson']),
  data: { type: 'object', description: 'Fields of the {noun}.', additionalProperties: true },
  force: flag('Delete even when other items refer to it.', false),
  at: timestamp('When to run (ISO 8601).'),
};

/** The input schema of a tool with these parameters (`name?` is optional). */
export function toolInputSchema(params: readonly string[], noun = 'item'): JsonObject {
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const param of params) {
    const name = param.endsWith('?') ? param.slice(0, -1) : param;
    const definition = PARAMETERS[name];
    if (definition === undefined) throw new Error(`seed catalog: unknown tool parameter "${name}"`);
    properties[name] = withNoun(definition, noun);
    if (!param.endsWith('?')) required.push(name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    $schema: 'http://json-schema.org/draft-07/schema#',
  };
}

function withNoun(definition: JsonObject, noun: string): JsonObject {
  const description = definition.description;
  return typeof description === 'string' && description.includes('{noun}')
    ? { ...definition, description: description.replace('{noun}', noun) }
    : definition;
}

/** Parameters and description of a generic `verb_noun` tool. */
export const GENERIC_TOOLS: Record<GenericVerb, { params: string[]; describe: (noun: string) => string }> = {
  get: { params: ['id'], describe: (noun) => `Get one ${noun} by id, with all its fields.` },
  list: {
    params: ['limit?', 'cursor?', 'filter?'],
    describe: (noun) => `List ${noun}s, newest first, one page at a time.`,
  },
  create: { params: ['name', 'data?'], describe: (noun) => `Create a ${noun}.` },
  update: { params: ['id', 'data'], describe: (noun) => `Change fields of a ${noun}; others are kept.` },
  delete: { params: ['id', 'force?'], describe: (noun) => `Delete a ${noun}. This cannot be undone.` },
  search: { params: ['query', 'limit?'], describe: (noun) => `Search ${noun}s by text.` },
  export: { params: ['format?', 'since?'], describe: (noun) => `Export ${noun}s as a file.` },
  import: { params: ['data', 'dry_run?'], describe: (noun) => `Import ${noun}s from a file.` },
  sync: {
    params: ['since?', 'dry_run?'],
    describe: (noun) => `Synchronise ${noun}s with the upstream system.`,
  },
  validate: { params: ['data'], describe: (noun) => `Check a ${noun} for errors without saving it.` },
  summarize: { params: ['id', 'max_length?'], describe: (noun) => `Summarize a ${noun} in a few sentences.` },
  archive: { params: ['id'], describe: (noun) => `Archive a ${noun}: hidden from lists, kept for audits.` },
};

const READ_ONLY_VERBS = new Set([
  'get',
  'list',
  'search',
  'read',
  'describe',
  'query',
  'fetch',
  'explain',
  'sample',
  'retrieve',
  'extract',
  'screenshot',
  'crawl',
  'summarize',
  'export',
  'validate',
  'answer',
  'convert',
  'calculate',
  'geocode',
  'classify',
  'translate',
  'transcribe',
  'directory',
]);
const DESTRUCTIVE_VERBS = new Set([
  'delete',
  'write',
  'move',
  'execute',
  'merge',
  'refund',
  'put',
  'scale',
  'restart',
]);

/** MCP tool annotations, as servers declare them, guessed from the tool's verb. */
export function toolAnnotations(name: string, openWorld: boolean): JsonObject {
  const verb = name.split('_')[0] ?? name;
  const readOnly = READ_ONLY_VERBS.has(verb);
  return {
    title: name
      .split('_')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(' '),
    readOnlyHint: readOnly,
    destructiveHint: !readOnly && DESTRUCTIVE_VERBS.has(verb),
    idempotentHint: readOnly || verb === 'update' || verb === 'put',
    openWorldHint: openWorld,
  };
}
