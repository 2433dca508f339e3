import type { FeatureModule } from '../graphql/feature-module.js';
import { ToolSearchResolver } from './tool-search.resolver.js';

/** Tool search across the servers a caller may see; reads the registry's tables (text-search.ts). */
export const searchModule = {
  resolvers: [ToolSearchResolver],
} satisfies FeatureModule;
