import { randomUUID } from 'node:crypto';
import { IsNull, LessThanOrEqual, Or, type DataSource } from 'typeorm';
import { JobLeaseEntity } from './job-lease.entity';

/**
 * A lease row in the database: every instance asks, one at a time holds it. Taken by a conditional
 * UPDATE (free or expired, and the job due), so two instances asking at once get it once; an
 * instance that crashes holding it loses it when it expires. Works alike on SQLite and MariaDB,
 * with or without Redis.
 */
export class JobLease {
  constructor(
    private readonly db: DataSource,
    private readonly name: string,
    private readonly ttlMs: number,
    readonly holder: string = randomUUID(),
  ) {}

  /** Takes the lease when nobody holds it and the job last finished at least `everyMs` before `now`. */
  async take(now: Date, everyMs: number): Promise<boolean> {
    const repo = this.db.getRepository(JobLeaseEntity);
    if (!(await repo.existsBy({ name: this.name }))) {
      // The row is made once; a second instance making it at the same moment finds the first's.
      await repo.insert({ name: this.name, holder: null, expiresAt: new Date(0), lastRunAt: null }).catch(async (err: unknown) => {
        if (!(await repo.existsBy({ name: this.name }))) throw err;
      });
    }
    const taken = await repo.update(
      { name: this.name, expiresAt: LessThanOrEqual(now), lastRunAt: Or(IsNull(), LessThanOrEqual(new Date(now.getTime() - everyMs))) },
      { holder: this.holder, expiresAt: new Date(now.getTime() + this.ttlMs) },
    );
    return taken.affected === 1;
  }

  /** Keeps it for another ttl (a long run); false when it was lost meanwhile (expired and taken by another). */
  async renew(now: Date): Promise<boolean> {
    const kept = await this.db
      .getRepository(JobLeaseEntity)
      .update({ name: this.name, holder: this.holder }, { expiresAt: new Date(now.getTime() + this.ttlMs) });
    return kept.affected === 1;
  }

  /** Gives it back; `ran`: the job finished, so it is next due `everyMs` after now. */
  async release(now: Date, ran: boolean): Promise<void> {
    await this.db
      .getRepository(JobLeaseEntity)
      .update({ name: this.name, holder: this.holder }, { holder: null, expiresAt: now, ...(ran ? { lastRunAt: now } : {}) });
  }
}
