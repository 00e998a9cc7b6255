import type { Message } from 'google-protobuf';
import { InvalidAppendRequest, PendingAppend, expectedRevisionOf, fillSuccess, fillWrongExpectedVersion, proposedEvent } from './append-request.ts';
import type { AppendOutcome, ExpectedRevision, InMemoryLog } from './in-memory-log.ts';
import { anyPb, codePb, emptyPb, sharedPb, statusPb, streamIdentifier, streamNameOf, streamsPb, type CodePb, type Grpc, type SharedPb, type StatusPb, type StreamsPb } from './stubs.ts';

/**
 * `Streams.BatchAppend` (bidirectional streaming), which the client uses for
 * every append once `ServerFeatures` lists it, over one call it keeps open.
 * That call carries many appends, told apart by correlation id: an append's
 * first request carries its options (stream, expected revision, deadline),
 * each request some of its proposed messages (the client splits a large
 * append over several), the last one `is_final`. Each append gets one
 * `BatchAppendResp` with its correlation id and stream name: `success`
 * (current revision and position) or `error`, a `google.rpc.Status` whose
 * details pack the reason as an `Any`, as a real server does:
 * - `event_store.client.WrongExpectedVersion` (ALREADY_EXISTS): current and
 *   expected, which the client raises as `WrongExpectedVersionError`;
 * - `event_store.client.MaximumAppendSizeExceeded` (INVALID_ARGUMENT), sent as
 *   soon as the events received pass `maxAppendSize`: nothing is written, and
 *   the append's later requests are ignored. The client raises
 *   `MaxAppendSizeExceededError`;
 * - `event_store.client.Timeout` (DEADLINE_EXCEEDED) when the deadline had
 *   passed when the options came (the client raises `DeadlineExceededError`).
 * Requests of an append that was not opened by options, or was answered
 * already, are ignored, as a real server ignores them.
 */
export const batchAppendHandler =
  (log: InMemoryLog, { maxAppendSize }: { readonly maxAppendSize: number }): Grpc.handleBidiStreamingCall<StreamsPb.BatchAppendReq, StreamsPb.BatchAppendResp> =>
  (call) => {
    const pending = new Map<string, PendingAppend>();
    const answer = (request: StreamsPb.BatchAppendReq, streamName: string, result: StreamsPb.BatchAppendResp.Success | StatusPb.Status): void => {
      if (call.cancelled) return;
      const response = new streamsPb.BatchAppendResp().setCorrelationId(request.getCorrelationId()).setStreamIdentifier(streamIdentifier(streamName));
      call.write(result instanceof statusPb.Status ? response.setError(result) : response.setSuccess(result));
    };

    call.on('data', (request: StreamsPb.BatchAppendReq) => {
      const correlation = correlationKey(request.getCorrelationId());
      const options = request.getOptions();
      if (options && !pending.has(correlation)) {
        const streamName = streamNameOf(options.getStreamIdentifier());
        const deadline = options.getDeadline();
        if (deadline && deadline.toDate().getTime() <= Date.now()) return answer(request, streamName, timeout());
        pending.set(correlation, new PendingAppend(streamName, expectedRevisionOf(options), maxAppendSize));
      }
      const append = pending.get(correlation);
      if (!append) return;
      const refusal = receive(append, request);
      if (refusal) {
        pending.delete(correlation);
        return answer(request, append.streamName, refusal);
      }
      if (!request.getIsFinal()) return;
      pending.delete(correlation);
      answer(request, append.streamName, outcomeOf(append.commit(log), append.expected));
    });
    // The client half-closes only when it is done with the call: every append it finished has been answered.
    call.on('end', () => {
      if (!call.cancelled) call.end();
    });
  };

/** Takes a request's events into its append; the error to answer if that refuses the append. */
const receive = (append: PendingAppend, request: StreamsPb.BatchAppendReq): StatusPb.Status | undefined => {
  let events;
  try {
    events = request.getProposedMessagesList().map(proposedEvent);
  } catch (error) {
    if (!(error instanceof InvalidAppendRequest)) throw error;
    return badRequest(error.message);
  }
  return append.add(events) ? undefined : maximumAppendSizeExceeded(append.maxAppendSize);
};

/** A correlation id as a map key, in either of the forms a `UUID` message takes. */
const correlationKey = (uuid: SharedPb.UUID | undefined): string => {
  if (uuid?.hasString()) return uuid.getString();
  const structured = uuid?.getStructured();
  return structured ? `${structured.getMostSignificantBits()}:${structured.getLeastSignificantBits()}` : '';
};

const outcomeOf = (outcome: AppendOutcome, expected: ExpectedRevision): StreamsPb.BatchAppendResp.Success | StatusPb.Status => {
  if (outcome.ok) {
    const success = new streamsPb.BatchAppendResp.Success();
    fillSuccess(success, outcome, () => new sharedPb.AllStreamPosition(), () => new emptyPb.Empty());
    return success;
  }
  const wrong = new sharedPb.WrongExpectedVersion();
  fillWrongExpectedVersion(
    wrong,
    outcome.currentRevision,
    expected,
    { current: (revision) => wrong.setCurrentStreamRevision(revision), expected: (revision) => wrong.setExpectedStreamPosition(revision) },
    () => new emptyPb.Empty(),
  );
  return status(codePb.Code.ALREADY_EXISTS, 'WrongExpectedVersion', wrong);
};

const maximumAppendSizeExceeded = (maxAppendSize: number): StatusPb.Status =>
  status(codePb.Code.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(maxAppendSize));

const timeout = (): StatusPb.Status => status(codePb.Code.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout());

const badRequest = (message: string): StatusPb.Status => status(codePb.Code.INVALID_ARGUMENT, 'BadRequest', new sharedPb.BadRequest().setMessage(message));

/** A `google.rpc.Status` as a real server builds it: the detail packed as `type.googleapis.com/event_store.client.<its name>`, the message its name. */
const status = (code: CodePb.Code, name: string, detail: Message): StatusPb.Status => {
  const details = new anyPb.Any();
  details.pack(detail.serializeBinary(), `event_store.client.${name}`);
  return new statusPb.Status().setCode(code).setMessage(name).setDetails(details);
};
