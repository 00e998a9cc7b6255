import type { ExpectedRevision, InMemoryLog, ProposedEvent, AppendOutcome } from './in-memory-log.ts';
import { grpc, sharedPb, streamNameOf, streamsPb, type Grpc, type StreamsPb } from './stubs.ts';

/**
 * `Streams.Append` (client streaming): one message with the options (stream,
 * expected revision), then one message per proposed event. The answer is
 * `success` (current revision and position) or `wrong_expected_version`, with
 * the fields `@eventstore/db-client` reads to raise `WrongExpectedVersionError`.
 */
export const appendHandler =
  (log: InMemoryLog): Grpc.handleClientStreamingCall<StreamsPb.AppendReq, StreamsPb.AppendResp> =>
  (call, callback) => {
    let options: StreamsPb.AppendReq.Options | undefined;
    const proposed: ProposedEvent[] = [];
    let invalid: string | undefined;

    call.on('data', (request: StreamsPb.AppendReq) => {
      if (request.hasOptions()) options = request.getOptions();
      const message = request.getProposedMessage();
      if (!message) return;
      const id = message.getId();
      if (!id?.hasString()) invalid ??= 'the test server only takes event ids in the string form';
      proposed.push({
        id: id?.getString() ?? '',
        type: message.getMetadataMap().get('type') ?? '',
        contentType: message.getMetadataMap().get('content-type') ?? 'application/octet-stream',
        data: message.getData_asU8(),
        customMetadata: message.getCustomMetadata_asU8(),
      });
    });

    call.on('end', () => {
      if (!options) invalid ??= 'the first AppendReq must carry the options';
      if (invalid || !options) return callback({ code: grpc.status.INVALID_ARGUMENT, details: invalid });
      const expected = expectedRevisionOf(options);
      callback(null, appendResponse(log.append(streamNameOf(options.getStreamIdentifier()), expected, proposed), expected));
    });
  };

const expectedRevisionOf = (options: StreamsPb.AppendReq.Options): ExpectedRevision => {
  if (options.hasRevision()) return BigInt(options.getRevision());
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  return 'any';
};

const appendResponse = (outcome: AppendOutcome, expected: ExpectedRevision): StreamsPb.AppendResp => {
  const response = new streamsPb.AppendResp();
  if (outcome.ok) {
    const success = new streamsPb.AppendResp.Success();
    if (outcome.currentRevision === undefined) success.setNoStream(new sharedPb.Empty());
    else success.setCurrentRevision(outcome.currentRevision.toString());
    if (outcome.position === undefined) success.setNoPosition(new sharedPb.Empty());
    else success.setPosition(new streamsPb.AppendResp.Position().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
    return response.setSuccess(success);
  }
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.currentRevision === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
  else wrong.setCurrentRevision(outcome.currentRevision.toString());
  if (typeof expected === 'bigint') wrong.setExpectedRevision(expected.toString());
  else if (expected === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
  else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
  else wrong.setExpectedAny(new sharedPb.Empty());
  return response.setWrongExpectedVersion(wrong);
};
