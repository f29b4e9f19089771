import type { Term } from './terms.js';

/**
 * How many identities have ever used each term. A tool half the fleet uses is a weaker signal
 * when one more identity picks it up than a tool nobody else has touched.
 */
export class PeerIndex {
  private readonly holders = new Map<string, number>();
  private readonly identities = new Set<string>();

  private static key(term: Term): string {
    return `${term.kind}\u0000${term.value}`;
  }

  /** Records that `identity` has `term` (call once per new identity × term). */
  add(identity: string, term: Term): void {
    this.identities.add(identity);
    const key = PeerIndex.key(term);
    this.holders.set(key, (this.holders.get(key) ?? 0) + 1);
  }

  /** `identity` no longer has `term` (triage confirmed it as part of an incident). */
  remove(identity: string, term: Term): void {
    const key = PeerIndex.key(term);
    const holders = (this.holders.get(key) ?? 0) - 1;
    if (holders > 0) this.holders.set(key, holders);
    else this.holders.delete(key);
  }

  /** Loads a holder count computed elsewhere (ClickHouse), for a term no identity here added. */
  setHolders(term: Term, holders: number): void {
    this.holders.set(PeerIndex.key(term), holders);
  }

  addIdentity(identity: string): void {
    this.identities.add(identity);
  }

  /** How many identities other than `self` the peer view knows. */
  others(self: string): number {
    return this.identities.size - (this.identities.has(self) ? 1 : 0);
  }

  /** Share of the other identities that have used the term (0 when there are none). */
  share(term: Term, self: string, selfHasIt: boolean): number {
    const others = this.others(self);
    if (others <= 0) return 0;
    const holders = (this.holders.get(PeerIndex.key(term)) ?? 0) - (selfHasIt ? 1 : 0);
    return Math.min(1, Math.max(0, holders / others));
  }

  get size(): number {
    return this.identities.size;
  }
}
