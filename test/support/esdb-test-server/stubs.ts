import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import type * as CodePb from '@eventstore/db-client/generated/code_pb.js';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as ServerFeaturesGrpcPb from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as StreamsGrpcPb from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb.js';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb.js';

/**
 * The generated gRPC stubs that `@eventstore/db-client` ships, loaded as the
 * very module instances the client uses: its `dist/` requires
 * `../../generated/streams_pb`, the same file resolved here, so the message
 * classes are the same and the stubs' serializers (which check `instanceof`)
 * accept what the test server builds. `@grpc/grpc-js` too is the one the stubs
 * resolve.
 */
const requireFromHere = createRequire(import.meta.url);
const requireFromStubs = createRequire(requireFromHere.resolve('@eventstore/db-client/generated/streams_grpc_pb.js'));

export const grpc = requireFromStubs('@grpc/grpc-js') as typeof Grpc;
export const streamsGrpcPb = requireFromStubs('./streams_grpc_pb.js') as typeof StreamsGrpcPb;
export const streamsPb = requireFromStubs('./streams_pb.js') as typeof StreamsPb;
export const sharedPb = requireFromStubs('./shared_pb.js') as typeof SharedPb;
export const serverFeaturesGrpcPb = requireFromStubs('./serverfeatures_grpc_pb.js') as typeof ServerFeaturesGrpcPb;
export const serverFeaturesPb = requireFromStubs('./serverfeatures_pb.js') as typeof ServerFeaturesPb;
/** google.rpc.Status and Code: a BatchAppend error. */
export const statusPb = requireFromStubs('./status_pb.js') as typeof StatusPb;
export const codePb = requireFromStubs('./code_pb.js') as typeof CodePb;
/** The well-known types the stubs use (google.protobuf.Any, Empty), from the google-protobuf they resolve. */
export const anyPb = requireFromStubs('google-protobuf/google/protobuf/any_pb.js') as typeof AnyPb;
export const emptyPb = requireFromStubs('google-protobuf/google/protobuf/empty_pb.js') as typeof EmptyPb;

export type { CodePb, Grpc, ServerFeaturesPb, SharedPb, StatusPb, StreamsPb };

/** A stream name as the wire carries it (bytes), decoded. */
export const streamNameOf = (identifier: SharedPb.StreamIdentifier | undefined): string =>
  Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');

export const streamIdentifier = (name: string): SharedPb.StreamIdentifier =>
  new sharedPb.StreamIdentifier().setStreamName(Uint8Array.from(Buffer.from(name, 'utf8')));
