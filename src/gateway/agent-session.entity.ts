import { Check, Entity, Filter, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { ApiKey } from '../auth/api-key.entity.js';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { User } from '../users/user.entity.js';
import { VirtualServer } from '../virtual/virtual-server.entity.js';

/**
 * A 2025-era MCP session (`Mcp-Session-Id`) an agent opened on a virtual server with one key. Stored, not held
 * in memory, so any instance of a fleet serves the session's next request. Its id is the session id: a random
 * UUID, and a session is only found together with its virtual server and key.
 */
@Entity({ tableName: 'agent_sessions' })
@Filter(tenantScoped<AgentSession>((scope) => ({ virtualServer: { tenant: scope.tenantId } })))
// Expired sessions are swept by their last use.
@Index({ name: 'agent_sessions_last_seen_at_idx', properties: ['lastSeenAt'] })
// Opened by a key or by a token's user: exactly one of them.
@Check({ name: 'agent_sessions_opener_check', expression: '(api_key_id is null) <> (user_id is null)' })
export class AgentSession extends BaseEntity<'clientName' | 'lastSeenAt'> {
  @ManyToOne(() => VirtualServer, {
    ref: true,
    deleteRule: 'cascade',
    index: 'agent_sessions_virtual_server_id_idx',
  })
  virtualServer: Ref<VirtualServer>;

  /**
   * The key that opened the session; only it may use the session. Revoking the key ends its use. `null` for a
   * session opened with an access token: then `user` is the token's user, and only that user's tokens may use it.
   */
  @ManyToOne(() => ApiKey, {
    ref: true,
    nullable: true,
    deleteRule: 'cascade',
    index: 'agent_sessions_api_key_id_idx',
  })
  apiKey: Ref<ApiKey> | null;

  @ManyToOne(() => User, {
    ref: true,
    nullable: true,
    deleteRule: 'cascade',
    index: 'agent_sessions_user_id_idx',
  })
  user: Ref<User> | null;

  /** What the agent and the gateway agreed on at `initialize`. */
  @Property({ type: 'string', length: 32 })
  protocolVersion: string;

  /** The agent's `clientInfo.name`, for operators. */
  @Property({ type: 'string', length: 255, nullable: true })
  clientName: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  lastSeenAt: Date = new Date();

  constructor(
    virtualServer: Ref<VirtualServer>,
    opener: { apiKey: Ref<ApiKey> } | { user: Ref<User> },
    protocolVersion: string,
  ) {
    super();
    this.virtualServer = virtualServer;
    this.apiKey = 'apiKey' in opener ? opener.apiKey : null;
    this.user = 'user' in opener ? opener.user : null;
    this.protocolVersion = protocolVersion;
  }
}
