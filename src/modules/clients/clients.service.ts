import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Brackets, type DataSource } from 'typeorm';
import { ClientEntity, ClientSourceEntity } from './client.entity';
import { ClientTreatmentEndEntity } from './client-treatment.entity';

export interface ClientSourceRef {
  source: string;
  externalId: string;
}

/** How long an instance trusts that what it last wrote of a client (name, treatment end) is still what is stored. */
const WRITTEN_TTL_MS = 5 * 60_000;

/** The key of one client's treatment end at one source in the instance's cache of what it wrote. */
const endKey = (clientId: string, source: string): string => `${clientId}\u0000${source}`;

/** Maps the portal's client ids to where the EHRs know the client; owns the clients tables. */
export class ClientsService {
  /** Sources are only ever added, so a short in-process cache is safe; it saves a query per request. */
  private readonly cache = new LRUCache<string, { refs: ClientSourceRef[]; until: number }>({ max: 10_000 });
  /**
   * The names this instance last stored (a cache: it only saves writes of an unchanged name). Kept
   * for minutes only: another instance may store another name meanwhile, which this one would
   * otherwise never correct while its own reads agree with what it wrote.
   */
  private readonly names = new LRUCache<string, string>({ max: 10_000, ttl: WRITTEN_TTL_MS });
  /** The treatment ends this instance last stored, per client and source, '' for none (a cache, as names). */
  private readonly treatmentEnds = new LRUCache<string, string>({ max: 10_000, ttl: WRITTEN_TTL_MS });
  /**
   * Client ids found to exist, and the client each (source, id there) was found linked to: client
   * rows are never deleted (retention keeps them, nameless) and a source's id for a client never changes.
   */
  private readonly known = new LRUCache<string, true>({ max: 100_000 });
  private readonly linked = new LRUCache<string, string>({ max: 100_000 });

  constructor(
    private readonly db: DataSource,
    private readonly cacheMs = 30_000,
  ) {}

  /**
   * The portal's client that `ref` names, as an event of `source` names it: the portal's own client
   * id, or the id that source system knows the client by; null while neither is known. What was
   * found is kept, so the events about a client already seen cost no query; what was not is asked
   * again next time (the client may log in meanwhile).
   */
  async resolveRef(ref: string, source: string): Promise<string | null> {
    if (this.known.has(ref)) return ref;
    const key = `${source}\u0000${ref}`;
    const linked = this.linked.get(key);
    if (linked) return linked;
    if (await this.db.getRepository(ClientEntity).existsBy({ id: ref })) {
      this.known.set(ref, true);
      return ref;
    }
    const bySource = await this.existingClientId({ source, externalId: ref });
    if (bySource) this.linked.set(key, bySource);
    return bySource;
  }

  async existingClientId(ref: ClientSourceRef): Promise<string | null> {
    return (await this.db.getRepository(ClientSourceEntity).findOneBy({ source: ref.source, externalId: ref.externalId }))?.clientId ?? null;
  }

  /** Finds or creates the portal's client for an EHR record; safe under concurrent logins. */
  async ensureClient(ref: ClientSourceRef, linkTo?: string): Promise<string> {
    const repo = this.db.getRepository(ClientSourceEntity);
    const existing = await repo.findOneBy({ source: ref.source, externalId: ref.externalId });
    if (existing) return existing.clientId;
    if (linkTo) this.cache.delete(linkTo);
    const clientId = linkTo ?? randomUUID();
    try {
      await this.db.transaction(async (tx) => {
        if (!linkTo) await tx.getRepository(ClientEntity).insert({ id: clientId, createdAt: new Date(), displayName: null });
        await tx.getRepository(ClientSourceEntity).insert({ id: randomUUID(), clientId, source: ref.source, externalId: ref.externalId });
      });
      return clientId;
    } catch (err) {
      const raced = await repo.findOneBy({ source: ref.source, externalId: ref.externalId });
      if (raced) return raced.clientId;
      throw err;
    }
  }

  /** The name an EHR last gave for the client, or null. */
  async storedName(clientId: string): Promise<string | null> {
    return (await this.db.getRepository(ClientEntity).findOneBy({ id: clientId }))?.displayName ?? null;
  }

  /** Keeps the name an EHR just gave, written only when it changed (this instance remembers what it wrote). */
  async rememberName(clientId: string, name: string): Promise<void> {
    if (this.names.get(clientId) === name) return;
    await this.db.getRepository(ClientEntity).update({ id: clientId }, { displayName: name.slice(0, 200) });
    this.names.set(clientId, name);
  }

  /**
   * When a source's treatment of the client ended (null: it goes on, a new episode), the date the
   * retention job counts from, as reported at `reportedAt` (the event's arrival, the EHR's read). A
   * report older than the one stored changes nothing: an event retried after a later one, or two
   * instances processing at once, leave the latest word. Answers false when that source does not
   * know the client.
   */
  async recordTreatmentEnd(clientId: string, source: string, endedAt: Date | null, reportedAt: Date): Promise<boolean> {
    if (!(await this.db.getRepository(ClientSourceEntity).existsBy({ clientId, source }))) return false;
    // What this instance last wrote may not be what is stored after this (another report may be later).
    this.treatmentEnds.delete(endKey(clientId, source));
    const repo = this.db.getRepository(ClientTreatmentEndEntity);
    const updateIfLater = async () =>
      (
        await repo
          .createQueryBuilder()
          .update()
          .set({ endedAt, reportedAt })
          .where({ clientId, source })
          .andWhere(new Brackets((w) => w.where('reported_at IS NULL').orWhere('reported_at <= :reportedAt', { reportedAt })))
          .execute()
      ).affected;
    if ((await updateIfLater()) || (await repo.existsBy({ clientId, source }))) return true;
    // The first word of this source on it; one told twice at once finds the other's row and updates that (if later).
    await repo.insert({ id: randomUUID(), clientId, source, endedAt, reportedAt }).catch(async (err: unknown) => {
      if (!(await updateIfLater()) && !(await repo.existsBy({ clientId, source }))) throw err;
    });
    return true;
  }

  /** What the EHR itself says on a read of the client (besides the `treatment.ended` event), written only when it changed. */
  async rememberTreatmentEnd(clientId: string, source: string, endedAt: string | null, askedAt: Date): Promise<void> {
    const key = endKey(clientId, source);
    if (this.treatmentEnds.get(key) === (endedAt ?? '')) return;
    // Reported when the EHR was asked, not when it answered: an event processed while it answered is later.
    await this.recordTreatmentEnd(clientId, source, endedAt ? new Date(endedAt) : null, askedAt);
    this.treatmentEnds.set(key, endedAt ?? '');
  }

  async sourcesOf(clientIds: readonly string[]): Promise<Map<string, ClientSourceRef[]>> {
    const now = Date.now();
    const out = new Map<string, ClientSourceRef[]>();
    const missing = clientIds.filter((id) => {
      const hit = this.cache.get(id);
      if (hit && hit.until > now) out.set(id, hit.refs);
      return !out.has(id);
    });
    if (missing.length) {
      const rows = await this.db.getRepository(ClientSourceEntity).createQueryBuilder('s').where('s.client_id IN (:...ids)', { ids: missing }).getMany();
      for (const id of missing) out.set(id, []);
      for (const row of rows) out.get(row.clientId)!.push({ source: row.source, externalId: row.externalId });
      for (const id of missing) if (out.get(id)!.length) this.cache.set(id, { refs: out.get(id)!, until: now + this.cacheMs });
    }
    return out;
  }
}
