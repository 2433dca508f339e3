/**
 * What seeded servers are made of: kinds of MCP servers as people run them (web search, files, databases,
 * git hosting, chat, ...), each with the tools, resources and prompts such a server offers.
 *
 * Each category tool has the chance that a server of that category offers it. The chances of `search` and
 * `fetch` are set so that "servers with ALL of [search, fetch]" matches a few percent of servers (mostly web
 * servers, some knowledge bases and utilities), which is what discovery benchmarks ask for.
 */

export interface CatalogTool {
  readonly name: string;
  readonly chance: number;
  readonly description: string;
  /** Parameter names from the parameter library; a trailing `?` marks an optional one. */
  readonly params: readonly string[];
}

export interface CatalogResource {
  readonly uri: string;
  readonly name: string;
  readonly mimeType: string;
}

export interface CatalogPrompt {
  readonly name: string;
  readonly description: string;
  readonly arguments: readonly string[];
}

export interface Category {
  readonly name: string;
  /** Relative share of servers. */
  readonly weight: number;
  readonly serverNames: readonly string[];
  readonly descriptions: readonly string[];
  readonly tags: readonly string[];
  /** Command lines for STDIO servers of this kind. */
  readonly commands: readonly string[];
  /** Calls reach the outside world (the `openWorldHint` annotation). */
  readonly openWorld: boolean;
  readonly tools: readonly CatalogTool[];
  readonly resources: readonly CatalogResource[];
  readonly prompts: readonly CatalogPrompt[];
}

const tool = (name: string, chance: number, description: string, params: string): CatalogTool => ({
  name,
  chance,
  description,
  params: params.split(' ').filter(Boolean),
});

const resource = (uri: string, name: string, mimeType: string): CatalogResource => ({ uri, name, mimeType });

const prompt = (name: string, description: string, args: string): CatalogPrompt => ({
  name,
  description,
  arguments: args.split(' ').filter(Boolean),
});

export const CATEGORIES: readonly Category[] = [
  {
    name: 'web',
    weight: 11,
    serverNames: ['web-search', 'browser', 'crawler', 'web-tools', 'research', 'scraper'],
    descriptions: [
      'Web search and page fetching for the {team} team.',
      'Headless browser: search the web, fetch pages as markdown, take screenshots.',
      'Crawls and extracts content from public websites for {team}.',
    ],
    tags: ['web', 'search', 'research', 'browser'],
    commands: ['npx -y @modelcontextprotocol/server-fetch', 'uvx mcp-server-fetch', 'npx -y mcp-web-search'],
    openWorld: true,
    tools: [
      tool(
        'search',
        0.6,
        'Search the web and return ranked results with titles, URLs and snippets.',
        'query limit? language? safe_search?',
      ),
      tool(
        'fetch',
        0.45,
        'Fetch a URL and return its content as markdown, optionally truncated.',
        'url max_length? start_index? raw?',
      ),
      tool(
        'screenshot',
        0.25,
        'Render a page in a headless browser and return a PNG screenshot.',
        'url width? height? full_page?',
      ),
      tool(
        'extract_links',
        0.3,
        'List the links found on a page, resolved to absolute URLs.',
        'url same_origin?',
      ),
      tool(
        'crawl',
        0.2,
        'Crawl a site breadth-first from a start URL and return page summaries.',
        'url max_pages? max_depth?',
      ),
      tool('search_news', 0.25, 'Search recent news articles.', 'query since? limit?'),
      tool(
        'search_images',
        0.15,
        'Search for images and return their URLs and dimensions.',
        'query limit? safe_search?',
      ),
      tool('summarize_url', 0.2, 'Fetch a page and summarize it in a few sentences.', 'url max_length?'),
    ],
    resources: [
      resource('https://{host}/{+path}', 'Web page', 'text/html'),
      resource('search://engines', 'Configured search engines', 'application/json'),
      resource('browser://session/{id}/screenshot', 'Session screenshot', 'image/png'),
    ],
    prompts: [
      prompt('summarize_page', 'Summarize a web page for a busy reader.', 'url audience?'),
      prompt('research_topic', 'Research a topic across several sources and cite them.', 'topic depth?'),
    ],
  },
  {
    name: 'filesystem',
    weight: 12,
    serverNames: ['files', 'filesystem', 'shared-drive', 'workspace-files', 'docs-share'],
    descriptions: [
      'Read and write access to the {team} shared workspace.',
      'Secure file operations limited to the allowed directories.',
      'Network drive for {team}: browse, search and edit files.',
    ],
    tags: ['files', 'storage', 'workspace'],
    commands: [
      'npx -y @modelcontextprotocol/server-filesystem /srv/data',
      'npx -y @modelcontextprotocol/server-filesystem /home/agent/workspace',
    ],
    openWorld: false,
    tools: [
      tool('read_file', 0.85, 'Read the complete contents of a file as text.', 'path encoding?'),
      tool('write_file', 0.6, 'Create a file or overwrite it with new content.', 'path content'),
      tool(
        'list_directory',
        0.8,
        'List files and directories at a path, with [FILE] and [DIR] prefixes.',
        'path',
      ),
      tool(
        'search_files',
        0.5,
        'Recursively search for files whose names match a pattern.',
        'path pattern exclude_patterns?',
      ),
      tool(
        'edit_file',
        0.4,
        'Apply line-based edits to a text file and return a git-style diff.',
        'path edits dry_run?',
      ),
      tool('move_file', 0.3, 'Move or rename a file or directory.', 'source destination'),
      tool('create_directory', 0.35, 'Create a directory, including missing parents.', 'path'),
      tool('get_file_info', 0.45, 'Size, times, permissions and type of a file or directory.', 'path'),
      tool('directory_tree', 0.25, 'A recursive JSON tree of a directory.', 'path max_depth?'),
      tool('delete_file', 0.15, 'Delete a file. Directories must be empty.', 'path'),
    ],
    resources: [
      resource('file:///{path}', 'Workspace file', 'application/octet-stream'),
      resource('file:///srv/data/README.md', 'Workspace readme', 'text/markdown'),
      resource('file:///etc/app/config.yaml', 'Application configuration', 'application/yaml'),
      resource('file:///var/log/app/{date}.log', 'Daily application log', 'text/plain'),
    ],
    prompts: [
      prompt('explain_file', 'Explain what a file does and how it is used.', 'path'),
      prompt('review_changes', 'Review recent changes to a directory.', 'path since?'),
    ],
  },
  {
    name: 'database',
    weight: 10,
    serverNames: ['postgres', 'warehouse', 'analytics-db', 'mysql-reader', 'sqlite', 'clickhouse'],
    descriptions: [
      'Read-only SQL access to the {team} reporting database.',
      'Query the data warehouse; schemas and sample rows for context.',
      'Database inspection and querying with statement timeouts.',
    ],
    tags: ['database', 'sql', 'analytics', 'data'],
    commands: [
      'npx -y @modelcontextprotocol/server-postgres postgresql://readonly@db.internal/reporting',
      'uvx mcp-server-sqlite --db-path /srv/data/app.db',
    ],
    openWorld: false,
    tools: [
      tool(
        'query',
        0.85,
        'Run a read-only SQL query and return the rows as JSON.',
        'sql params? timeout_ms?',
      ),
      tool('list_tables', 0.8, 'List the tables of a schema with their row estimates.', 'schema?'),
      tool('describe_table', 0.7, 'Columns, types, indexes and foreign keys of a table.', 'table'),
      tool('list_schemas', 0.4, 'List the schemas the connection may read.', ''),
      tool('explain_query', 0.35, 'Show the execution plan of a query without running it.', 'sql analyze?'),
      tool(
        'sample_rows',
        0.35,
        'Return a few rows of a table to show what its data looks like.',
        'table limit?',
      ),
      tool('execute', 0.15, 'Run a data-modifying SQL statement inside a transaction.', 'sql params?'),
      tool('search', 0.08, 'Full-text search over indexed text columns.', 'query table? limit?'),
    ],
    resources: [
      resource('postgres://{database}/{schema}/{table}/schema', 'Table schema', 'application/json'),
      resource('db://{table}/rows{?limit,offset}', 'Table rows', 'application/json'),
      resource('db://schema', 'Database schema', 'application/json'),
    ],
    prompts: [
      prompt('write_sql', 'Write a SQL query that answers a question about the data.', 'question dialect?'),
      prompt('optimize_query', 'Suggest indexes and rewrites for a slow query.', 'sql'),
    ],
  },
  {
    name: 'git',
    weight: 9,
    serverNames: ['github', 'gitlab', 'git-repos', 'code-review', 'bitbucket'],
    descriptions: [
      'Issues, pull requests and code search for the {team} repositories.',
      'Git hosting integration: browse code, review and merge pull requests.',
    ],
    tags: ['git', 'code', 'devtools', 'ci'],
    commands: [
      'npx -y @modelcontextprotocol/server-github',
      'uvx mcp-server-git --repository /srv/repos/app',
    ],
    openWorld: true,
    tools: [
      tool(
        'list_issues',
        0.7,
        'List issues of a repository, filtered by state and labels.',
        'repo state? labels? limit?',
      ),
      tool('create_issue', 0.65, 'Open a new issue in a repository.', 'repo title body? labels?'),
      tool('get_issue', 0.6, 'Get an issue with its comments.', 'repo number'),
      tool('search_code', 0.55, 'Search code across repositories.', 'query repo? language? limit?'),
      tool('get_file_contents', 0.6, 'Get the contents of a file or directory at a ref.', 'repo path ref?'),
      tool('create_pull_request', 0.45, 'Open a pull request from a branch.', 'repo title head base body?'),
      tool('get_pull_request', 0.4, 'Get a pull request with its review status and checks.', 'repo number'),
      tool('list_commits', 0.4, 'List commits of a branch.', 'repo ref? since? limit?'),
      tool('add_comment', 0.35, 'Comment on an issue or pull request.', 'repo number body'),
      tool('search_repositories', 0.3, 'Search repositories by name, topic or language.', 'query limit?'),
      tool(
        'merge_pull_request',
        0.2,
        'Merge a pull request once its checks pass.',
        'repo number merge_method?',
      ),
      tool('fetch', 0.05, 'Fetch the latest refs from the remote.', 'repo prune?'),
    ],
    resources: [
      resource('repo://{owner}/{repo}/contents{/path*}', 'Repository contents', 'text/plain'),
      resource('git://{repo}/commits/{sha}', 'Commit', 'application/json'),
    ],
    prompts: [
      prompt('review_pull_request', 'Review a pull request for bugs and style.', 'repo number focus?'),
      prompt('triage_issue', 'Label and prioritise a new issue.', 'repo number'),
    ],
  },
  {
    name: 'messaging',
    weight: 8,
    serverNames: ['slack', 'teams', 'email', 'chat-bridge', 'notifications'],
    descriptions: [
      'Post to and search the {team} chat workspace.',
      'Send notifications and read threads across chat channels.',
    ],
    tags: ['chat', 'messaging', 'notifications'],
    commands: ['npx -y @modelcontextprotocol/server-slack'],
    openWorld: true,
    tools: [
      tool('send_message', 0.8, 'Post a message to a channel or a user.', 'channel text thread_id?'),
      tool('list_channels', 0.7, 'List the channels the bot is a member of.', 'limit? cursor?'),
      tool(
        'search_messages',
        0.5,
        'Search messages by text, author and date.',
        'query channel? since? limit?',
      ),
      tool('get_thread', 0.45, 'Get the replies of a thread.', 'channel thread_id'),
      tool('post_reply', 0.4, 'Reply in a thread.', 'channel thread_id text'),
      tool('get_user_profile', 0.35, 'Get the profile of a user.', 'user_id'),
      tool('add_reaction', 0.25, 'Add an emoji reaction to a message.', 'channel timestamp name'),
      tool('search', 0.06, 'Search messages and files.', 'query limit?'),
    ],
    resources: [resource('slack://channels/{channel}/history', 'Channel history', 'application/json')],
    prompts: [prompt('summarize_channel', 'Summarize what happened in a channel today.', 'channel since?')],
  },
  {
    name: 'cloud',
    weight: 8,
    serverNames: ['aws', 'gcp', 'kubernetes', 'cloud-ops', 'terraform', 'azure'],
    descriptions: [
      'Inspect and operate the {team} cloud accounts.',
      'Kubernetes cluster access: pods, logs, deployments.',
      'Infrastructure inventory and operations with audit logging.',
    ],
    tags: ['cloud', 'infra', 'ops', 'kubernetes'],
    commands: ['uvx awslabs.core-mcp-server', 'npx -y mcp-server-kubernetes'],
    openWorld: true,
    tools: [
      tool('list_instances', 0.55, 'List compute instances with state and size.', 'region? filter? limit?'),
      tool('describe_instance', 0.45, 'Details of one instance.', 'id region?'),
      tool('list_pods', 0.5, 'List pods of a namespace with their status.', 'namespace? label_selector?'),
      tool(
        'get_pod_logs',
        0.45,
        'Tail the logs of a pod container.',
        'namespace name container? tail_lines?',
      ),
      tool('scale_deployment', 0.2, 'Scale a deployment to a number of replicas.', 'namespace name replicas'),
      tool('restart_service', 0.15, 'Restart a service by rolling its pods.', 'namespace name'),
      tool('list_buckets', 0.4, 'List storage buckets.', 'region?'),
      tool('get_object', 0.35, 'Read an object from a bucket.', 'bucket key'),
      tool('put_object', 0.2, 'Write an object to a bucket.', 'bucket key content'),
      tool('get_metrics', 0.35, 'Fetch a metric series for a resource.', 'metric resource since? step?'),
    ],
    resources: [
      resource('k8s://{namespace}/pods/{name}', 'Pod', 'application/json'),
      resource('s3://{bucket}/{+key}', 'Bucket object', 'application/octet-stream'),
      resource('cloud://inventory', 'Resource inventory', 'application/json'),
    ],
    prompts: [
      prompt('diagnose_incident', 'Diagnose an incident from pod logs and metrics.', 'namespace service'),
    ],
  },
  {
    name: 'productivity',
    weight: 8,
    serverNames: ['calendar', 'notion', 'jira', 'google-docs', 'linear', 'confluence'],
    descriptions: [
      'Calendars, documents and tasks of the {team} team.',
      'Project tracking: create and update tasks, plan sprints.',
    ],
    tags: ['productivity', 'docs', 'tasks', 'calendar'],
    commands: ['npx -y @notionhq/notion-mcp-server', 'npx -y mcp-atlassian'],
    openWorld: true,
    tools: [
      tool('list_events', 0.5, 'List calendar events in a time range.', 'calendar_id? start end'),
      tool(
        'create_event',
        0.4,
        'Create a calendar event and invite attendees.',
        'title start end attendees?',
      ),
      tool('get_document', 0.5, 'Get a document as markdown.', 'id'),
      tool('create_document', 0.35, 'Create a document in a folder.', 'title content folder_id?'),
      tool('update_document', 0.3, 'Replace or append to a document.', 'id content mode?'),
      tool(
        'list_tasks',
        0.55,
        'List tasks assigned to a user or a project.',
        'project? assignee? state? limit?',
      ),
      tool('create_task', 0.5, 'Create a task.', 'project title body? assignee? due?'),
      tool('complete_task', 0.3, 'Mark a task done.', 'id'),
      tool('search', 0.3, 'Search documents, pages and tasks.', 'query limit?'),
      tool('fetch', 0.08, 'Fetch a page or document by its URL.', 'url'),
    ],
    resources: [
      resource('notion://pages/{id}', 'Page', 'text/markdown'),
      resource('calendar://{calendar_id}/events{?start,end}', 'Calendar events', 'application/json'),
    ],
    prompts: [prompt('plan_week', 'Plan the week from calendar and open tasks.', 'assignee')],
  },
  {
    name: 'knowledge',
    weight: 8,
    serverNames: ['knowledge-base', 'wiki', 'vector-store', 'docs-search', 'memory'],
    descriptions: [
      'Semantic search over the {team} knowledge base.',
      'Company wiki and handbook with retrieval for agents.',
      'Long-term memory: store facts and retrieve them by meaning.',
    ],
    tags: ['knowledge', 'search', 'rag', 'docs'],
    commands: ['npx -y @modelcontextprotocol/server-memory', 'uvx mcp-server-qdrant'],
    openWorld: false,
    tools: [
      tool(
        'search',
        0.7,
        'Semantic search over the collection; returns passages with scores.',
        'query limit? collection? min_score?',
      ),
      tool('retrieve', 0.45, 'Retrieve passages most relevant to a question.', 'query limit?'),
      tool('get_document', 0.45, 'Get a whole document by id.', 'id'),
      tool('list_collections', 0.4, 'List the collections and their sizes.', ''),
      tool('add_document', 0.35, 'Add a document; it is chunked and embedded.', 'collection title content'),
      tool('answer_question', 0.3, 'Answer a question from the knowledge base with citations.', 'question'),
      tool('fetch', 0.15, 'Fetch a document by its URL or id.', 'url'),
    ],
    resources: [
      resource('kb://{collection}/documents/{id}', 'Knowledge base document', 'text/markdown'),
      resource('kb://collections', 'Collections', 'application/json'),
    ],
    prompts: [
      prompt('answer_with_sources', 'Answer a question citing knowledge base documents.', 'question'),
    ],
  },
  {
    name: 'observability',
    weight: 7,
    serverNames: ['grafana', 'datadog', 'prometheus', 'sentry', 'logs', 'pagerduty'],
    descriptions: [
      'Metrics, logs and alerts of the {team} services.',
      'Incident context: errors, traces and on-call status.',
    ],
    tags: ['observability', 'monitoring', 'ops', 'alerts'],
    commands: ['uvx mcp-grafana', 'npx -y @sentry/mcp-server'],
    openWorld: true,
    tools: [
      tool('query_metrics', 0.6, 'Run a PromQL query over a time range.', 'query start? end? step?'),
      tool('search_logs', 0.55, 'Search logs with a query language filter.', 'query since? limit?'),
      tool('list_alerts', 0.5, 'List firing alerts.', 'severity? limit?'),
      tool('get_alert', 0.35, 'Details of one alert with its history.', 'id'),
      tool('acknowledge_alert', 0.25, 'Acknowledge an alert.', 'id note?'),
      tool('get_trace', 0.3, 'Get a distributed trace by id.', 'id'),
      tool('list_dashboards', 0.35, 'List dashboards.', 'query? limit?'),
      tool('search', 0.1, 'Search issues and events.', 'query limit?'),
    ],
    resources: [
      resource('grafana://dashboards/{uid}', 'Dashboard', 'application/json'),
      resource('alerts://firing', 'Firing alerts', 'application/json'),
    ],
    prompts: [prompt('incident_summary', 'Summarize an incident for the status page.', 'id')],
  },
  {
    name: 'commerce',
    weight: 5,
    serverNames: ['stripe', 'shopify', 'billing', 'crm', 'hubspot'],
    descriptions: ['Customers, invoices and payments.', 'Store orders and products for the {team} team.'],
    tags: ['payments', 'commerce', 'crm', 'finance'],
    commands: ['npx -y @stripe/mcp --tools=all'],
    openWorld: true,
    tools: [
      tool('list_customers', 0.6, 'List customers, newest first.', 'email? limit? cursor?'),
      tool('get_customer', 0.5, 'Get a customer with their subscriptions.', 'id'),
      tool('create_invoice', 0.35, 'Create a draft invoice for a customer.', 'customer items currency?'),
      tool('list_payments', 0.45, 'List payments in a period.', 'since? limit?'),
      tool('refund_payment', 0.15, 'Refund a payment, fully or partly.', 'id amount? reason?'),
      tool('get_order', 0.4, 'Get an order with its line items.', 'id'),
      tool('list_products', 0.4, 'List products and prices.', 'limit? cursor?'),
      tool('search', 0.1, 'Search customers and orders.', 'query limit?'),
    ],
    resources: [resource('stripe://customers/{id}', 'Customer', 'application/json')],
    prompts: [prompt('draft_dunning_email', 'Draft a friendly payment reminder.', 'customer')],
  },
  {
    name: 'utilities',
    weight: 5,
    serverNames: ['time', 'weather', 'maps', 'calculator', 'everything'],
    descriptions: [
      'Small helpers: time zones, weather, geocoding.',
      'Reference server with assorted utilities.',
    ],
    tags: ['utilities', 'weather', 'time'],
    commands: ['uvx mcp-server-time', 'npx -y @modelcontextprotocol/server-everything'],
    openWorld: true,
    tools: [
      tool('get_current_time', 0.6, 'Current time in a time zone.', 'timezone'),
      tool(
        'convert_time',
        0.45,
        'Convert a time between time zones.',
        'time source_timezone target_timezone',
      ),
      tool('get_weather', 0.45, 'Current weather at a location.', 'location units?'),
      tool('get_forecast', 0.35, 'Weather forecast for the next days.', 'location days?'),
      tool('geocode', 0.3, 'Coordinates of an address.', 'address'),
      tool('calculate', 0.25, 'Evaluate an arithmetic expression.', 'expression'),
      tool('fetch', 0.3, 'Fetch a URL and return its body.', 'url max_length?'),
      tool('search', 0.2, 'Search places by name.', 'query limit?'),
    ],
    resources: [resource('weather://{location}/current', 'Current weather', 'application/json')],
    prompts: [],
  },
  {
    name: 'ai',
    weight: 4,
    serverNames: ['image-gen', 'translator', 'speech', 'nlp', 'vision'],
    descriptions: ['Model-backed helpers: translation, transcription, image generation.'],
    tags: ['ai', 'ml', 'translation'],
    commands: ['uvx mcp-server-translate'],
    openWorld: true,
    tools: [
      tool('generate_image', 0.4, 'Generate an image from a prompt.', 'prompt size? style?'),
      tool('translate', 0.55, 'Translate text between languages.', 'text target_language source_language?'),
      tool('transcribe_audio', 0.35, 'Transcribe an audio file.', 'url language?'),
      tool('summarize', 0.45, 'Summarize text to a target length.', 'text max_length?'),
      tool('classify_text', 0.3, 'Classify text into given labels.', 'text labels'),
      tool('extract_entities', 0.3, 'Extract people, places and organisations from text.', 'text'),
    ],
    resources: [],
    prompts: [
      prompt('translate_document', 'Translate a document keeping its formatting.', 'text target_language'),
    ],
  },
];

/** Verbs and nouns of the generic tools that fill servers up to `--tools-per-server`. */
export const GENERIC_VERBS = [
  'get',
  'list',
  'create',
  'update',
  'delete',
  'search',
  'export',
  'import',
  'sync',
  'validate',
  'summarize',
  'archive',
] as const;
export type GenericVerb = (typeof GENERIC_VERBS)[number];

export const GENERIC_NOUNS = [
  'user',
  'team',
  'project',
  'report',
  'invoice',
  'order',
  'ticket',
  'event',
  'metric',
  'alert',
  'dashboard',
  'record',
  'comment',
  'attachment',
  'note',
  'contact',
  'deployment',
  'job',
  'workflow',
  'secret',
  'config',
  'snapshot',
  'backup',
  'webhook',
  'subscription',
  'segment',
  'campaign',
  'asset',
  'release',
  'policy',
] as const;

export const TEAMS = [
  'platform',
  'research',
  'support',
  'growth',
  'data',
  'security',
  'finance',
  'marketing',
  'sales',
  'ops',
  'design',
  'legal',
];

export const TENANT_NAMES = [
  'Acme Corporation',
  'Globex',
  'Initech',
  'Umbrella Labs',
  'Hooli',
  'Stark Industries',
  'Wayne Enterprises',
  'Wonka Industries',
  'Soylent Systems',
  'Cyberdyne',
  'Tyrell Corporation',
  'Massive Dynamic',
  'Aperture Science',
  'Black Mesa',
  'Vandelay Industries',
  'Pied Piper',
  'Oscorp',
  'Gringotts',
  'Nakatomi Trading',
  'Monsters Inc',
  'Dunder Mifflin',
  'Sirius Cybernetics',
  'Weyland-Yutani',
  'Bluth Company',
  'Prestige Worldwide',
];

export const PEOPLE = [
  ['ada', 'lovelace'],
  ['grace', 'hopper'],
  ['alan', 'turing'],
  ['barbara', 'liskov'],
  ['edsger', 'dijkstra'],
  ['margaret', 'hamilton'],
  ['donald', 'knuth'],
  ['frances', 'allen'],
  ['ken', 'thompson'],
  ['radia', 'perlman'],
] as const;
