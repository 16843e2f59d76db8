import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ClientEntity, ClientSourceEntity } from './client.entity';

export interface ClientSourceRef {
  source: string;
  externalId: string;
}

/** Maps the portal's client ids to where the EHRs know the client; owns the clients tables. */
export class ClientsService {
  constructor(private readonly db: DataSource) {}

  /** Finds or creates the portal's client for an EHR record; safe under concurrent logins. */
  async ensureClient(ref: ClientSourceRef, linkTo?: string): Promise<string> {
    const repo = this.db.getRepository(ClientSourceEntity);
    const existing = await repo.findOneBy({ source: ref.source, externalId: ref.externalId });
    if (existing) return existing.clientId;
    const clientId = linkTo ?? randomUUID();
    try {
      await this.db.transaction(async (tx) => {
        if (!linkTo) await tx.getRepository(ClientEntity).insert({ id: clientId, createdAt: new Date() });
        await tx.getRepository(ClientSourceEntity).insert({ id: randomUUID(), clientId, source: ref.source, externalId: ref.externalId });
      });
      return clientId;
    } catch (err) {
      const raced = await repo.findOneBy({ source: ref.source, externalId: ref.externalId });
      if (raced) return raced.clientId;
      throw err;
    }
  }

  async sourcesOf(clientIds: readonly string[]): Promise<Map<string, ClientSourceRef[]>> {
    const rows = clientIds.length
      ? await this.db.getRepository(ClientSourceEntity).createQueryBuilder('s').where('s.client_id IN (:...ids)', { ids: [...clientIds] }).getMany()
      : [];
    const out = new Map<string, ClientSourceRef[]>(clientIds.map((id) => [id, []]));
    for (const row of rows) out.get(row.clientId)?.push({ source: row.source, externalId: row.externalId });
    return out;
  }
}
