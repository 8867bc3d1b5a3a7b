import type { Logger } from "@espmesh/telemetry";
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { apiErrorCode, natsError, STREAM_NOT_FOUND } from "./nats-errors.js";
import { integerOption, invalidOption, nameOption, subjectOption } from "./validate.js";

/** Options of {@link Bus.ensureStream}. */
export interface StreamOptions {
  /** The stream's name. */
  readonly name: string;
  /** The subjects it stores (wildcards allowed); at least one. */
  readonly subjects: string | readonly string[];
  /**
   * How long the stream remembers a `Nats-Msg-Id` to drop a republished message. An existing
   * stream's shorter window is raised to this; a longer one is kept.
   * @default 120000
   */
  readonly duplicateWindowMs?: number;
  /**
   * Messages older than this are discarded; 0 keeps them until other limits apply. When given,
   * an existing stream's max age is set to it; when omitted, an existing stream keeps its own.
   * @default 0 (for a new stream)
   */
  readonly maxAgeMs?: number;
}

/** {@link StreamOptions} with every default applied. */
export interface CompiledStreamOptions {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly duplicateWindowMs: number;
  readonly maxAgeMs: number | undefined;
}

/** JetStream API error code of "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

/** Applies the defaults of {@link StreamOptions} and rejects invalid values naming the option. */
export function compileStreamOptions(options: StreamOptions): CompiledStreamOptions {
  const name = nameOption("ensureStream", "name", options.name);
  const list = typeof options.subjects === "string" ? [options.subjects] : [...(options.subjects ?? [])];
  if (list.length === 0) throw invalidOption("ensureStream", "subjects", "must name at least one subject");
  const subjects = list.map((subject) => subjectOption("ensureStream", "subjects", subject, true));
  const duplicateWindowMs = integerOption("ensureStream", "duplicateWindowMs", options.duplicateWindowMs, 120_000, 1);
  const maxAgeMs =
    options.maxAgeMs === undefined ? undefined : integerOption("ensureStream", "maxAgeMs", options.maxAgeMs, 0, 0);
  if (maxAgeMs !== undefined && maxAgeMs > 0 && maxAgeMs < duplicateWindowMs) {
    throw invalidOption(
      "ensureStream",
      "maxAgeMs",
      `(${maxAgeMs}) must not be shorter than duplicateWindowMs (${duplicateWindowMs})`,
    );
  }
  return { name, subjects, duplicateWindowMs, maxAgeMs };
}

/** Creates or verifies a stream; see {@link Bus.ensureStream}. */
export async function ensureStream(manager: JetStreamManager, options: StreamOptions, logger: Logger): Promise<void> {
  const config = compileStreamOptions(options);
  const details = { stream: config.name };
  // Two rounds: when another process creates the stream between our lookup and our add, verify theirs.
  for (let round = 0; round < 2; round++) {
    const info = await lookup(manager, config.name);
    if (info === undefined) {
      try {
        await manager.streams.add({
          name: config.name,
          subjects: [...config.subjects],
          duplicate_window: nanos(config.duplicateWindowMs),
          max_age: nanos(config.maxAgeMs ?? 0),
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
        });
        logger.info({ stream: config.name, subjects: config.subjects }, "stream created");
        return;
      } catch (error) {
        if (apiErrorCode(error) === STREAM_NAME_IN_USE && round === 0) continue;
        throw natsError(`cannot create stream "${config.name}"`, error, details);
      }
    }
    await reconcile(manager, info, config, logger);
    return;
  }
}

async function lookup(manager: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await manager.streams.info(name);
  } catch (error) {
    if (apiErrorCode(error) === STREAM_NOT_FOUND) return undefined;
    throw natsError(`cannot look up stream "${name}"`, error, { stream: name });
  }
}

/** Brings an existing stream up to the options: missing subjects, too short a window, another max age. */
async function reconcile(
  manager: JetStreamManager,
  info: StreamInfo,
  config: CompiledStreamOptions,
  logger: Logger,
): Promise<void> {
  const current = info.config;
  const subjects = [...(current.subjects ?? [])];
  const missing = config.subjects.filter((subject) => !subjects.includes(subject));
  const duplicateWindow = nanos(config.duplicateWindowMs);
  const raiseWindow = (current.duplicate_window ?? 0) < duplicateWindow;
  const maxAge = config.maxAgeMs === undefined ? current.max_age : nanos(config.maxAgeMs);
  const changeAge = maxAge !== current.max_age;
  if (missing.length === 0 && !raiseWindow && !changeAge) return;
  try {
    await manager.streams.update(config.name, {
      ...current,
      subjects: [...subjects, ...missing],
      duplicate_window: raiseWindow ? duplicateWindow : current.duplicate_window,
      max_age: maxAge,
    });
  } catch (error) {
    throw natsError(`cannot update stream "${config.name}"`, error, { stream: config.name });
  }
  logger.info({ stream: config.name, added: missing, raiseWindow, changeAge }, "stream updated");
}
