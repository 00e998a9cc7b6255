import { InvalidAppendRequest, PendingAppend, expectedRevisionOf, fillSuccess, fillWrongExpectedVersion, proposedEvent } from './append-request.ts';
import type { AppendOutcome, ExpectedRevision, InMemoryLog } from './in-memory-log.ts';
import { grpc, sharedPb, streamNameOf, streamsPb, type Grpc, type StreamsPb } from './stubs.ts';

/**
 * `Streams.Append` (client streaming): one message with the options (stream,
 * expected revision), then one message per proposed event. The answer is
 * `success` (current revision and position) or `wrong_expected_version`, with
 * the fields `@eventstore/db-client` reads to raise `WrongExpectedVersionError`.
 * Once the events' size passes `maxAppendSize` the call fails at once, as on a
 * real server, and nothing is written.
 */
export const appendHandler =
  (log: InMemoryLog, { maxAppendSize }: { readonly maxAppendSize: number }): Grpc.handleClientStreamingCall<StreamsPb.AppendReq, StreamsPb.AppendResp> =>
  (call, callback) => {
    let append: PendingAppend | undefined;
    let answered = false;
    const fail = (status: Partial<Grpc.StatusObject>): void => {
      if (answered) return;
      answered = true;
      callback(status);
    };

    call.on('data', (request: StreamsPb.AppendReq) => {
      if (answered) return;
      try {
        if (!append) {
          const options = request.getOptions();
          if (!options) throw new InvalidAppendRequest('the first AppendReq must carry the options');
          append = new PendingAppend(streamNameOf(options.getStreamIdentifier()), expectedRevisionOf(options), maxAppendSize);
          return;
        }
        const message = request.getProposedMessage();
        if (!message) throw new InvalidAppendRequest('every AppendReq after the first must carry a proposed message');
        if (!append.add([proposedEvent(message)])) fail(maxAppendSizeExceeded(maxAppendSize));
      } catch (error) {
        if (!(error instanceof InvalidAppendRequest)) throw error;
        fail({ code: grpc.status.INVALID_ARGUMENT, details: error.message });
      }
    });

    call.on('end', () => {
      if (answered) return;
      if (!append) return fail({ code: grpc.status.INVALID_ARGUMENT, details: 'the first AppendReq must carry the options' });
      answered = true;
      callback(null, appendResponse(append.commit(log), append.expected));
    });
  };

/**
 * How a real server refuses an Append over its `MaxAppendSize`: status
 * INVALID_ARGUMENT with the trailers `exception: maximum-append-size-exceeded`
 * and `maximum-append-size: N`, which the client raises as
 * `MaxAppendSizeExceededError` with `maxAppendSize` N.
 */
export const maxAppendSizeExceeded = (maxAppendSize: number): Partial<Grpc.StatusObject> => {
  const metadata = new grpc.Metadata();
  metadata.set('exception', 'maximum-append-size-exceeded');
  metadata.set('maximum-append-size', String(maxAppendSize));
  return { code: grpc.status.INVALID_ARGUMENT, details: `Maximum Append Size of ${maxAppendSize} Exceeded.`, metadata };
};

const appendResponse = (outcome: AppendOutcome, expected: ExpectedRevision): StreamsPb.AppendResp => {
  const response = new streamsPb.AppendResp();
  if (outcome.ok) {
    const success = new streamsPb.AppendResp.Success();
    fillSuccess(success, outcome, () => new streamsPb.AppendResp.Position(), () => new sharedPb.Empty());
    return response.setSuccess(success);
  }
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  fillWrongExpectedVersion(
    wrong,
    outcome.currentRevision,
    expected,
    { current: (revision) => wrong.setCurrentRevision(revision), expected: (revision) => wrong.setExpectedRevision(revision) },
    () => new sharedPb.Empty(),
  );
  return response.setWrongExpectedVersion(wrong);
};
