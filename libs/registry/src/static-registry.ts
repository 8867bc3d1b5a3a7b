import { SnapshotHub } from "./snapshot-hub.js";
import type { Member, MembershipSnapshot, Registry } from "./types.js";

/** Options of {@link createStaticRegistry}. */
export interface StaticRegistryOptions {
  /** The members; a member given only an id and address is ready and serving. @default [] */
  members?: readonly StaticMember[];
}

/** A member of a static registry; the flags default to a healthy member. */
export interface StaticMember {
  id: string;
  address: string;
  /** @default true */
  ready?: boolean;
  /** @default true */
  serving?: boolean;
  /** @default false */
  terminating?: boolean;
}

/** A registry with a fixed member list, which tests and benchmarks may replace with `set`. */
export interface StaticRegistry extends Registry {
  /** Replaces the membership; watchers see a new version when it differs. */
  set(members: readonly StaticMember[]): void;
  /** The newest snapshot. */
  readonly current: MembershipSnapshot;
}

function toMember(member: StaticMember): Member {
  return {
    id: member.id,
    address: member.address,
    ready: member.ready ?? true,
    serving: member.serving ?? true,
    terminating: member.terminating ?? false,
  };
}

/** A registry whose membership is what it is told: for tests, benchmarks and fixed setups. */
export function createStaticRegistry(options: StaticRegistryOptions = {}): StaticRegistry {
  const hub = new SnapshotHub();
  hub.publish((options.members ?? []).map(toMember));
  return {
    watch: (signal) => hub.watch(signal),
    set: (members) => {
      hub.publish(members.map(toMember));
    },
    get current() {
      return hub.current as MembershipSnapshot;
    },
    close: async () => hub.close(),
  };
}
