import type { Logger } from '../../observability/logger';

/** How an outbox runs (OUTBOX_*): its poll, its capped retry backoff, its dead letters. */
export interface OutboxOptions {
  pollMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Failed attempts after which a row is a dead letter (status failed): retried no more until requeued. */
  maxAttempts?: number;
  /** How long a claimed row is left to this instance before another may try it (a crash mid-send). */
  leaseMs?: number;
  batch?: number;
}

/** Capped exponential backoff with jitter (half to all of the step), for the outboxes' retries. */
export function cappedBackoff(attempts: number, baseMs: number, maxMs: number): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(capped / 2 + (Math.random() * capped) / 2);
}

/**
 * Runs `pass` now and then every `pollMs`, one pass at a time: a kick during a pass runs another
 * right after it. What the outboxes use to hand their rows to the EHRs.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly pollMs: number,
    private readonly logger: Logger,
    private readonly name: string,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** A pass now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass()
      .then(
        () => undefined,
        (err: Error) => this.logger.warn({ err: err.message }, `${this.name} pass failed`),
      )
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.pollMs);
          this.timer.unref();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
