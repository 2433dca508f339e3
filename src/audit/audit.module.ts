import type { FeatureModule } from '../graphql/feature-module.js';
import { AuditLogResolver } from './audit-log.resolver.js';
import { RequestLogResolver } from './request-log.resolver.js';

export const auditModule = {
  resolvers: [AuditLogResolver, RequestLogResolver],
} satisfies FeatureModule;
