import { MeshError, type MeshErrorDetails } from "@espmesh/telemetry";
import { JetStreamApiError } from "@nats-io/jetstream";
import { errors } from "@nats-io/transport-node";

/** JetStream API error code of "JetStream system temporarily unavailable". */
const TEMPORARILY_UNAVAILABLE = 10008;
/** JetStream API error code of "stream not found". */
export const STREAM_NOT_FOUND = 10059;
/** JetStream API error code of "consumer not found". */
export const CONSUMER_NOT_FOUND = 10014;

/** The JetStream API error code of an error, or undefined when it is not a JetStream API error. */
export function apiErrorCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined;
}

/**
 * Whether a NATS or JetStream failure is one that goes away when the server comes back: a timeout,
 * no responders (JetStream not up yet after a restart), a broken connection, or a JetStream API
 * error with status 503. A closed or draining connection (closed by us) and every other API error
 * (a real rejection: too large, wrong stream, ...) are final.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof errors.ClosedConnectionError || error instanceof errors.DrainingConnectionError) return false;
  if (error instanceof JetStreamApiError) return error.status === 503 || error.code === TEMPORARILY_UNAVAILABLE;
  if (
    error instanceof errors.TimeoutError ||
    error instanceof errors.RequestError ||
    error instanceof errors.NoRespondersError ||
    error instanceof errors.ConnectionError
  ) {
    return true;
  }
  // JetStreamNotEnabled (no responders on the JetStream API) is not exported by name.
  return error instanceof Error && (error.name === "JetStreamNotEnabled" || error.name === "TimeoutError");
}

/**
 * A NATS failure as a {@link MeshError} whose message starts with `what` (e.g. `publish to
 * "trades.out"`): a closed connection is UNAVAILABLE, a missing stream or consumer NOT_FOUND, an
 * argument the client refuses (payload over the server's max_payload, bad subject)
 * INVALID_ARGUMENT, a transient failure UNAVAILABLE, and any other JetStream API rejection (a
 * conflict with the server's state or limits, e.g. overlapping subjects) FAILED_PRECONDITION.
 */
export function natsError(what: string, error: unknown, details: MeshErrorDetails = {}): MeshError {
  if (error instanceof MeshError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const message = `${what}: ${reason}`;
  const options = { details, cause: error };
  if (error instanceof errors.ClosedConnectionError || error instanceof errors.DrainingConnectionError) {
    return new MeshError("UNAVAILABLE", `${what}: the bus is closed`, options);
  }
  if (error instanceof JetStreamApiError) {
    if (error.code === STREAM_NOT_FOUND || error.code === CONSUMER_NOT_FOUND) {
      return new MeshError("NOT_FOUND", message, options);
    }
    if (isTransient(error)) return new MeshError("UNAVAILABLE", message, options);
    return new MeshError("FAILED_PRECONDITION", message, options);
  }
  if (error instanceof errors.InvalidArgumentError || error instanceof errors.InvalidSubjectError) {
    return new MeshError("INVALID_ARGUMENT", message, options);
  }
  if (isTransient(error)) return new MeshError("UNAVAILABLE", message, options);
  const converted = MeshError.from(error);
  return new MeshError(converted.code, message, options);
}
