import { isAtOrAfter, type RecordedEvent, type Subscription } from './event-store.ts';

export interface HandledPosition {
  /** The subscription's events, as the worker takes them. */
  readonly events: AsyncIterable<RecordedEvent>;
  /** The worker is done with everything up to `position`. */
  handled(position: string): void;
  /**
   * How far the worker has handled the log: its last handled event, or, when
   * it holds nothing unhandled, as far as the subscription has passed over
   * events its filter does not want (else a quiet filtered subscriber would
   * look as if it lagged behind every later event).
   */
  position(): string | undefined;
}

export const trackHandled = (subscription: Subscription, from: string | undefined): HandledPosition => {
  let handled = from;
  let taken = from;
  return {
    events: (async function* () {
      for await (const event of subscription) {
        taken = event.position;
        yield event;
      }
    })(),
    handled: (position) => void (handled = position),
    position: () => {
      if (taken !== handled) return handled;
      const read = subscription.position();
      return read !== undefined && !isAtOrAfter(handled, read) ? read : handled;
    },
  };
};
