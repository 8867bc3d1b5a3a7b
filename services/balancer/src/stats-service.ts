import { create } from "@bufbuild/protobuf";
import * as pb from "@espmesh/proto";
import type { Balancer } from "./balancer.js";

/** The balancer's figures as its `BalancerService.Stats` call answers them. */
export async function statsResponse(balancer: Balancer): Promise<pb.StatsResponse> {
  const stats = balancer.stats();
  const lag = await balancer.inputLag();
  let inFlightEvents = 0;
  let inFlightBytes = 0;
  for (const worker of stats.workers) {
    inFlightEvents += worker.inflightEvents;
    inFlightBytes += worker.inflightBytes;
  }
  return create(pb.StatsResponseSchema, {
    state: stats.state,
    eventsIn: BigInt(stats.eventsIn),
    eventsOut: BigInt(stats.eventsOut),
    eventsPerSecond: stats.eventsPerSecond,
    inFlightEvents: BigInt(inFlightEvents),
    inFlightBytes: BigInt(Math.round(inFlightBytes)),
    heldEvents: BigInt(stats.heldEvents),
    outstanding: BigInt(stats.outstanding),
    shardMoves: BigInt(stats.shardMoves),
    workers: stats.workers.map((worker) => ({
      id: worker.id,
      state: worker.state,
      inFlightEvents: BigInt(worker.inflightEvents),
      inFlightBytes: BigInt(Math.round(worker.inflightBytes)),
      shards: worker.shards,
    })),
    inputLag: lag.map((binding) => ({
      sourceWindow: binding.window,
      stream: binding.stream,
      durable: binding.durable,
      pending: BigInt(binding.pending ?? 0),
      ackPending: BigInt(binding.ackPending ?? 0),
      error: binding.error ?? "",
    })),
    atMs: BigInt(Date.now()),
  });
}
