import type { EventMetadata } from '../../infrastructure/event-store/event-store.ts';

/** The metadata of what a reactor appends because of `cause`: same correlation, caused by it, written by `actor`. */
export const causedBy = (cause: { id: string; metadata: EventMetadata }, actor: string): EventMetadata => ({
  correlationId: cause.metadata.correlationId ?? cause.id,
  causationId: cause.id,
  actor,
});
