import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  addService,
  bindServer,
  type MembershipSchema,
  RegistryService,
  type ServiceImpl,
  shutdownServer,
} from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { LeaseTable, type LeaseTableOptions } from "./lease-table.js";
import type { MembershipSnapshot } from "./types.js";

/** A membership snapshot as the RegistryService sends it. */
export function toMembershipMessage(snapshot: MembershipSnapshot): MessageInitShape<typeof MembershipSchema> {
  return { version: BigInt(snapshot.version), members: snapshot.members.map((member) => ({ ...member })) };
}

/** The RegistryService implementation over a {@link LeaseTable}, to add to any grpc-js server. */
export function createRegistryServiceImpl(leases: LeaseTable): ServiceImpl<typeof RegistryService> {
  return {
    register(request) {
      const member = request.member;
      if (member === undefined) throw new MeshError("INVALID_ARGUMENT", "register: `member` is required");
      return leases.register(request.deployment, member, request.ttlMs);
    },
    heartbeat(request) {
      const member = request.member;
      leases.heartbeat(
        request.leaseId,
        member === undefined
          ? undefined
          : { ready: member.ready, serving: member.serving, terminating: member.terminating },
      );
      return {};
    },
    deregister(request) {
      leases.deregister(request.leaseId);
      return {};
    },
    async *watch(request, context) {
      if (request.deployment === "") throw new MeshError("INVALID_ARGUMENT", "watch: `deployment` is required");
      for await (const snapshot of leases.watch(request.deployment, context.signal)) {
        yield { membership: toMembershipMessage(snapshot) };
      }
    },
  };
}

/** Options of {@link createLocalRegistryServer}. */
export interface LocalRegistryServerOptions extends LeaseTableOptions {
  /** `host:port` to listen on; port 0 picks a free one. @default "127.0.0.1:0" */
  address?: string;
}

/** A standalone RegistryService server with its lease table. */
export interface LocalRegistryServer {
  /** `host:port` clients dial (the bound port). */
  readonly address: string;
  /** The lease table (in-process watches, tests). */
  readonly leases: LeaseTable;
  /** Stops serving and ends every watch. */
  stop(): Promise<void>;
}

/**
 * Starts the local RegistryService: workers Register with a lease and Heartbeat; a missed lease
 * removes them; Watch streams each deployment's membership snapshots.
 */
export async function createLocalRegistryServer(
  options: LocalRegistryServerOptions = {},
): Promise<LocalRegistryServer> {
  const leases = new LeaseTable(options);
  const server = new grpc.Server();
  addService(server, RegistryService, createRegistryServiceImpl(leases));
  const requested = options.address ?? "127.0.0.1:0";
  let port: number;
  try {
    port = await bindServer(server, requested);
  } catch (error) {
    leases.close();
    throw error;
  }
  const host = requested.slice(0, requested.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    leases,
    async stop() {
      leases.close();
      await shutdownServer(server);
    },
  };
}
