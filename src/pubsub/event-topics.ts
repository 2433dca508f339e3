/**
 * Every topic of the event bus and the event it carries. Each feature adds its own topics next to its event
 * types, by declaration merging (`declare module '../pubsub/event-topics.js' { interface EventTopics { … } }`),
 * so a publisher and its subscribers agree on the event without casts.
 */
// biome-ignore lint/suspicious/noEmptyInterface: the features extend it.
export interface EventTopics {}

export type EventTopic = keyof EventTopics;
