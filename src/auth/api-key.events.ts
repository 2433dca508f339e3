/** Event bus topics about API keys. Every instance publishes to and listens on the same names. */
export const API_KEY_TOPICS = {
  /** A key was revoked (or otherwise changed): instances check the websockets it holds open again. */
  apiKeyChanged: 'auth.api-key-changed',
} as const;

export interface ApiKeyChangedEvent {
  readonly apiKeyId: string;
}

declare module '../pubsub/event-topics.js' {
  interface EventTopics {
    [API_KEY_TOPICS.apiKeyChanged]: ApiKeyChangedEvent;
  }
}
