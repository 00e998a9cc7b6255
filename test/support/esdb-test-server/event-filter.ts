import type { StoredEvent } from './in-memory-log.ts';
import type { StreamsPb } from './stubs.ts';

/** The server-side filter of a `$all` read or subscription. */
export interface EventFilter {
  matches(event: StoredEvent): boolean;
  /** Events a read or a catch-up page looks at, matching or not (the client's `maxSearchWindow`). */
  readonly maxSearchWindow: number;
  /** A subscription sends a checkpoint after this many events considered (`checkpointIntervalMultiplier × maxSearchWindow`). */
  readonly checkpointInterval: number;
}

/** EventStoreDB's search window when the client asks for none (`count`): its read batch size. */
const DEFAULT_MAX_SEARCH_WINDOW = 32;

/**
 * On the event type or the stream name; a regex (tested anywhere in the
 * string, like .NET's `Regex.IsMatch`) or, when the regex is empty, a list of
 * prefixes (none matches nothing).
 */
export const eventFilterOf = (options: StreamsPb.ReadReq.Options.FilterOptions): EventFilter => {
  const onType = options.hasEventType();
  const expression = onType ? options.getEventType() : options.getStreamIdentifier();
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  const prefixes = expression?.getPrefixList() ?? [];
  const matchesText = (text: string) => (regex ? regex.test(text) : prefixes.some((prefix) => text.startsWith(prefix)));
  const maxSearchWindow = options.hasMax() ? options.getMax() : DEFAULT_MAX_SEARCH_WINDOW;
  return {
    matches: (event) => matchesText(onType ? event.type : event.streamName),
    maxSearchWindow,
    checkpointInterval: Math.max(1, options.getCheckpointintervalmultiplier()) * maxSearchWindow,
  };
};
