/**
 * Balanced, sticky assignment of one topic's partitions to a group's members
 * (docs/PROTOCOL.md §16.2): no member holds more than one partition above another, and a
 * rebalance moves as few partitions as it can.
 */

/** partition → member id, or absent when unowned. */
export type Assignment = ReadonlyMap<number, string>;

/**
 * The target assignment of `partitions` partitions among `members` (ids), keeping as many
 * of `current` as balance allows. Deterministic: the same inputs give the same answer.
 */
export function assignPartitions(
  partitions: number,
  members: readonly string[],
  current: Assignment,
): Map<number, string> {
  const target = new Map<number, string>();
  if (members.length === 0) return target;
  const sorted = [...members].sort();
  const held = new Map<string, number[]>(sorted.map((m) => [m, []]));
  for (let p = 0; p < partitions; p++) {
    const owner = current.get(p);
    if (owner !== undefined) held.get(owner)?.push(p);
  }
  const quotas = quotasFor(partitions, sorted, held);
  const free: number[] = [];
  for (let p = 0; p < partitions; p++) if (!held.has(current.get(p) ?? "")) free.push(p);
  // Each member keeps what it holds up to its quota; the rest is freed.
  for (const m of sorted) {
    const mine = held.get(m) as number[];
    const keep = quotas.get(m) as number;
    for (const p of mine.slice(0, keep)) target.set(p, m);
    free.push(...mine.slice(keep));
  }
  free.sort((a, b) => a - b);
  // Free partitions go to members under their quota, in order.
  for (const m of sorted) {
    let room =
      (quotas.get(m) as number) -
      (held.get(m) as number[]).filter((p) => target.get(p) === m).length;
    while (room-- > 0 && free.length > 0) target.set(free.shift() as number, m);
  }
  return target;
}

/**
 * Each member gets floor(P/M) partitions and `P mod M` of them one more: those that already
 * hold the most, so fewer partitions move.
 */
function quotasFor(partitions: number, sorted: string[], held: Map<string, number[]>) {
  const base = Math.floor(partitions / sorted.length);
  let extra = partitions % sorted.length;
  const byHolding = [...sorted].sort(
    (a, b) => (held.get(b)?.length ?? 0) - (held.get(a)?.length ?? 0) || (a < b ? -1 : 1),
  );
  const quotas = new Map<string, number>();
  for (const m of byHolding) quotas.set(m, base + (extra-- > 0 ? 1 : 0));
  return quotas;
}
