import { registerEnumType } from 'type-graphql';

export enum LoadBalancingStrategy {
  ROUND_ROBIN = 'round_robin',
  WEIGHTED = 'weighted',
  LEAST_CONNECTIONS = 'least_connections',
  RANDOM = 'random',
  CONSISTENT_HASH = 'consistent_hash',
  FASTEST_RESPONSE = 'fastest_response',
}
registerEnumType(LoadBalancingStrategy, { name: 'LoadBalancingStrategy' });
