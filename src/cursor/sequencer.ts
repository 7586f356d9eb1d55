/**
 * The sequencer: batches that name the seq of their first event (`first_seq`) are applied in seq order, whatever
 * order they arrive in. Each HTTP request reaches the object on its own, so two batches sent without waiting can
 * arrive swapped: one that arrives ahead of the session waits (at most `gapWaitMs`, at most `maxWaiting` of them)
 * and is applied in the same turn as the batch that fills the gap. A `first_seq` the session already used is a
 * resend of an accepted batch and is refused, so a client that lost an answer can resend without storing anything
 * twice.
 */
export type SequenceRefusal =
  | { ok: false; code: "duplicate"; first_seq: number; next_seq: number }
  | { ok: false; code: "gap"; first_seq: number; next_seq: number }
  | { ok: false; code: "too_many_waiting" };

type Waiting<R> = {
  run: () => R;
  resolve: (result: R | SequenceRefusal) => void;
  timer: ReturnType<typeof setTimeout>;
};

export class Sequencer<R extends { ok: boolean }> {
  private readonly waiting = new Map<number, Waiting<R>>();

  constructor(
    private readonly nextSeq: () => number | null,
    private readonly gapWaitMs: number,
    private readonly maxWaiting: number,
  ) {}

  /**
   * Runs `run` now when `firstSeq` is what the session expects (or absent), later when it is ahead, never when it is
   * behind. After a run that succeeded, the waiting batches now next in line run too.
   */
  submit(firstSeq: number | undefined, run: () => R): R | SequenceRefusal | Promise<R | SequenceRefusal> {
    const next = this.nextSeq() ?? 0;
    if (firstSeq === undefined || firstSeq === next) {
      const result = run();
      if (result.ok) this.release();
      return result;
    }
    if (firstSeq < next || this.waiting.has(firstSeq)) {
      return { ok: false, code: "duplicate", first_seq: firstSeq, next_seq: next };
    }
    if (this.waiting.size >= this.maxWaiting) return { ok: false, code: "too_many_waiting" };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(firstSeq);
        resolve({ ok: false, code: "gap", first_seq: firstSeq, next_seq: this.nextSeq() ?? 0 });
      }, this.gapWaitMs);
      this.waiting.set(firstSeq, { run, resolve, timer });
    });
  }

  private release(): void {
    for (;;) {
      const next = this.nextSeq();
      const waiting = next === null ? undefined : this.waiting.get(next);
      if (next === null || !waiting) return;
      this.waiting.delete(next);
      clearTimeout(waiting.timer);
      const result = waiting.run();
      waiting.resolve(result);
      if (!result.ok) return;
    }
  }

  /** Answers every waiting batch with `result` (the session ended). */
  cancelAll(result: R): void {
    for (const [seq, waiting] of this.waiting) {
      this.waiting.delete(seq);
      clearTimeout(waiting.timer);
      waiting.resolve(result);
    }
  }
}
