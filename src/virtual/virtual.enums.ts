import { registerEnumType } from 'type-graphql';

/** How the tools of a virtual server's members are named for agents. */
export enum ToolNaming {
  /** Every tool as `{prefix}__{tool}`. */
  PREFIXED = 'prefixed',
  /** Only the names more than one member offers get their member's prefix. */
  ON_CONFLICT = 'on_conflict',
  /** Never prefixed: a name two members offer is refused. */
  AS_IS = 'as_is',
}
registerEnumType(ToolNaming, { name: 'ToolNaming' });
