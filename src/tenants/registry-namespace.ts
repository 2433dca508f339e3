import { badUserInput } from '../graphql/errors.js';

// A tenant's namespace in the MCP Registry API (src/registry-api/): the part of a server.json name before the
// slash. Chosen at tenant creation (or later), or derived: `<REGISTRY_NAMESPACE_BASE>.<tenant label>`. Either
// is unique: chosen ones by a unique constraint, derived ones because tenant names are, and the two never meet
// because a chosen one may not sit directly under the base (that level is the derived ones'). `.virtual` below
// a namespace is where the tenant's virtual servers are listed, so no chosen namespace ends with it.

const ID_SUFFIX_LENGTH = 8;
const LABEL_MAX = 63;
/** With `.virtual`, the slash and a 64-character server part, a name stays within server.json's 200. */
export const REGISTRY_NAMESPACE_MAX = 124;
const VIRTUAL_SUFFIX = '.virtual';
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const REVERSE_DNS = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);

/** A tenant's DNS label: its name when that is one (lower case letters, digits, inner hyphens). */
export function namespaceLabel(tenant: { readonly id: string; readonly name: string }): string {
  if (tenant.name.length <= LABEL_MAX && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(tenant.name)) {
    return tenant.name;
  }
  const cleaned = tenant.name
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .toLowerCase()
    .slice(0, LABEL_MAX - ID_SUFFIX_LENGTH - 1)
    .replace(/^-+/, '');
  return `${cleaned === '' ? '' : `${cleaned.replace(/-+$/, '')}-`}${tenant.id.slice(0, ID_SUFFIX_LENGTH)}`;
}

/** The namespace the Registry API lists a tenant's servers under: its chosen one, or the derived one. */
export function registryNamespaceOf(
  base: string,
  tenant: { readonly id: string; readonly name: string; readonly registryNamespace?: string | null },
): string {
  return tenant.registryNamespace ?? `${base}.${namespaceLabel(tenant)}`;
}

/**
 * A chosen namespace as given (`field` names it in errors): reverse-DNS labels in lower case, at least two,
 * at most REGISTRY_NAMESPACE_MAX characters, not directly under `base` and not ending in `.virtual`.
 * `null` for the empty text: back to the derived namespace.
 */
export function requireRegistryNamespace(value: string, base: string, field: string): string | null {
  if (value === '') return null;
  if (value.length > REGISTRY_NAMESPACE_MAX || !REVERSE_DNS.test(value)) {
    throw badUserInput(
      `"${field}" must be a reverse-DNS name such as com.example.team: two or more dot-separated labels of ` +
        `lower-case letters, digits and inner hyphens (each at most 63), at most ${REGISTRY_NAMESPACE_MAX} characters.`,
      field,
    );
  }
  if (value.endsWith(VIRTUAL_SUFFIX)) {
    throw badUserInput(
      `"${field}" may not end in "${VIRTUAL_SUFFIX}": that is where a namespace's virtual servers are listed.`,
      field,
    );
  }
  const reserved = `${base.toLowerCase()}.`;
  if (value.startsWith(reserved) && !value.slice(reserved.length).includes('.')) {
    throw badUserInput(
      `"${field}" may not be directly under "${base}": those namespaces are derived from tenant names.`,
      field,
    );
  }
  return value;
}
