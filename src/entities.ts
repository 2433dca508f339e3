import { AuditLog } from './audit/audit-log.entity.js';
import { RequestLog } from './audit/request-log.entity.js';
import { ApiKey } from './auth/api-key.entity.js';
import { BaseEntity } from './db/base.entity.js';
import { AgentSession } from './gateway/agent-session.entity.js';
import { CapabilityWatchLease } from './health/capability-watch-lease.entity.js';
import { HealthCheck } from './health/health-check.entity.js';
import { CircuitBreaker } from './registry/circuit-breaker.entity.js';
import { MCPServer } from './registry/mcp-server.entity.js';
import { SearchVocabularyWord } from './registry/search-vocabulary.entity.js';
import { ServerPrompt } from './registry/server-prompt.entity.js';
import { ServerResource } from './registry/server-resource.entity.js';
import { ServerTool } from './registry/server-tool.entity.js';
import { ServerVersion } from './registry/server-version.entity.js';
import { ImportedServer } from './registry-import/imported-server.entity.js';
import { RegistrySource } from './registry-import/registry-source.entity.js';
import { RoutingRule } from './routing/routing-rule.entity.js';
import { RoutingRuleTarget } from './routing/routing-rule-target.entity.js';
import { Tenant } from './tenants/tenant.entity.js';
import { User } from './users/user.entity.js';
import { VirtualServer } from './virtual/virtual-server.entity.js';
import { VirtualServerMember } from './virtual/virtual-server-member.entity.js';

/** Every entity the ORM maps; the migrations are generated from these. */
export const entities = [
  BaseEntity,
  Tenant,
  User,
  ApiKey,
  MCPServer,
  ServerTool,
  ServerResource,
  ServerPrompt,
  ServerVersion,
  SearchVocabularyWord,
  CircuitBreaker,
  HealthCheck,
  CapabilityWatchLease,
  AuditLog,
  RequestLog,
  RoutingRule,
  RoutingRuleTarget,
  VirtualServer,
  VirtualServerMember,
  AgentSession,
  RegistrySource,
  ImportedServer,
];
