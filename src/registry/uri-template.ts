import { UriTemplate } from '@modelcontextprotocol/client';

/**
 * RFC 6570 URI templates, as MCP resource templates use them (`file:///{path}`, `db://{table}/rows{?limit}`).
 * Discovery and virtual servers' reads match a concrete URI against stored templates in SQL (one statement
 * over every candidate server), so each template is translated once, when it is stored, into a PostgreSQL
 * regular expression; the MCP SDK's `UriTemplate.match` works in JavaScript on one template at a time, so only
 * its notion of what a template is is shared.
 */

/** An expression as the SDK's `UriTemplate.isTemplate` sees one: braces around something without spaces. */
const EXPRESSION = /\{(?=[^}\s])([+#./;?&]?)([^}\s]*)\}/;

/**
 * What each operator's expansion may produce. Strictly, a simple `{var}` percent-encodes `/`, but MCP servers
 * write `file:///{path}` for whole paths and clients send `file:///etc/hosts`; discovery would rather list a
 * server that then refuses a URI than hide one that serves it, so simple expansions may span `/`.
 */
const OPERATOR_PATTERNS: Record<string, string> = {
  '': '[^?#]*',
  '+': '.*',
  '#': '(#.*)?',
  '.': '(\\.[^/?#]*)*',
  '/': '(/[^/?#]*)*',
  ';': '(;[^/?#]*)*',
  '?': '(\\?[^#]*)?',
  '&': '(&[^#]*)?',
};

export function isUriTemplate(uri: string): boolean {
  return UriTemplate.isTemplate(uri);
}

/** A URI has a scheme (`file:`, `https:`, `db:`); anything else is searched as text. */
export function looksLikeUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value);
}

function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** The anchored regular expression matching every expansion of `template`. */
export function uriTemplateToRegex(template: string): string {
  let pattern = '';
  let last = 0;
  for (const match of template.matchAll(new RegExp(EXPRESSION, 'g'))) {
    pattern += escapeRegex(template.slice(last, match.index));
    pattern += OPERATOR_PATTERNS[match[1] ?? ''] ?? OPERATOR_PATTERNS[''];
    last = match.index + match[0].length;
  }
  return `^${pattern}${escapeRegex(template.slice(last))}$`;
}
