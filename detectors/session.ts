import type { SessionStep } from '../model/transitions.js';
import type { Term } from './terms.js';

/**
 * What the engine remembers of one session while it is live: the first-seen things inside it
 * so far (several new things together — a new tool, then a new recipient, then a new domain —
 * are a stronger signal than any one of them alone), and its last two steps (the history the
 * transition model judges the next step from).
 */
export class SessionNovelty {
  readonly novel: Term[] = [];
  /** The session's last two steps, oldest first. */
  readonly steps: SessionStep[] = [];
  /** Steps the session has had (a p-value over the session counts them all). */
  stepCount = 0;
  lastTs = 0;

  add(term: Term, ts: number): void {
    if (!this.novel.some((t) => t.kind === term.kind && t.value === term.value)) this.novel.push(term);
    this.lastTs = Math.max(this.lastTs, ts);
  }

  /** Appends a step, keeping the last two: a second-order model reads no further back. */
  step(step: SessionStep): void {
    this.steps.push(step);
    this.stepCount += 1;
    if (this.steps.length > 2) this.steps.shift();
  }

  get count(): number {
    return this.novel.length;
  }
}
