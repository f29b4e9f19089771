import type { Term } from './terms.js';

/**
 * First-seen things inside one session so far. Several new things together (a new tool, then
 * a new recipient, then a new domain) are a stronger signal than any one of them alone.
 */
export class SessionNovelty {
  readonly novel: Term[] = [];
  lastTs = 0;

  add(term: Term, ts: number): void {
    if (!this.novel.some((t) => t.kind === term.kind && t.value === term.value)) this.novel.push(term);
    this.lastTs = Math.max(this.lastTs, ts);
  }

  get count(): number {
    return this.novel.length;
  }
}
