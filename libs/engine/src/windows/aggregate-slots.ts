import { type Group, SLOTS } from "./aggregate-group.js";

/**
 * The running numbers of every live group of an aggregate window, side by side in one array: a
 * group's `num` is a view of its slot. Column passes over a batch then index one typed array by
 * slot offset instead of loading each row's group object.
 */
export class GroupSlots {
  /** `stride` numbers per slot; slot `s` starts at `s * stride`. */
  state: Float64Array;
  readonly stride: number;
  private readonly owners: (Group | undefined)[] = [];
  private readonly free: number[] = [];
  private used = 0;

  constructor(calls: number) {
    this.stride = calls * SLOTS;
    this.state = new Float64Array(this.stride * 16);
  }

  /** Gives a group a slot and moves its running numbers into it. */
  adopt(group: Group): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (this.used * this.stride > this.state.length) this.grow();
    }
    const offset = slot * this.stride;
    this.state.set(group.num, offset);
    group.num = this.state.subarray(offset, offset + this.stride);
    group.slot = slot;
    this.owners[slot] = group;
  }

  /** Frees the slot of a group that left the window (it keeps a copy of its numbers). */
  release(group: Group): void {
    const slot = group.slot;
    if (slot < 0 || this.owners[slot] !== group) return;
    group.num = group.num.slice();
    group.slot = -1;
    this.owners[slot] = undefined;
    this.state.fill(0, slot * this.stride, (slot + 1) * this.stride);
    this.free.push(slot);
  }

  private grow(): void {
    const state = new Float64Array(Math.max(this.state.length * 2, this.used * this.stride));
    state.set(this.state);
    this.state = state;
    for (const [slot, group] of this.owners.entries()) {
      if (group !== undefined) group.num = state.subarray(slot * this.stride, (slot + 1) * this.stride);
    }
  }
}
