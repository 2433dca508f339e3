import { registerEnumType } from 'type-graphql';

/** How the registry reaches a server. WEBSOCKET is not a standard MCP transport: stored, never probed. */
export enum TransportType {
  STREAMABLE_HTTP = 'streamable_http',
  SSE = 'sse',
  STDIO = 'stdio',
  WEBSOCKET = 'websocket',
}
registerEnumType(TransportType, { name: 'TransportType' });

export enum ServerStatus {
  HEALTHY = 'healthy',
  DEGRADED = 'degraded',
  UNHEALTHY = 'unhealthy',
  UNKNOWN = 'unknown',
  MAINTENANCE = 'maintenance',
}
registerEnumType(ServerStatus, { name: 'ServerStatus' });

export enum CircuitBreakerState {
  CLOSED = 'closed',
  OPEN = 'open',
  HALF_OPEN = 'half_open',
}
registerEnumType(CircuitBreakerState, { name: 'CircuitBreakerState' });
