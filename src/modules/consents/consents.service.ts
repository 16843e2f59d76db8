import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { PortalConsentEntity } from './portal-consent.entity';

/** Portal-owned consents; owns the portal_consents table. */
export class ConsentsService {
  constructor(private readonly db: DataSource) {}

  async get(clientId: string, topic: string): Promise<PortalConsentEntity | null> {
    return this.db.getRepository(PortalConsentEntity).findOneBy({ clientId, topic });
  }

  async isGranted(clientId: string, topic: string): Promise<boolean> {
    return (await this.get(clientId, topic))?.granted ?? false;
  }

  async set(clientId: string, topic: string, granted: boolean, accountId: string): Promise<PortalConsentEntity> {
    const repo = this.db.getRepository(PortalConsentEntity);
    const existing = await repo.findOneBy({ clientId, topic });
    const changedAt = new Date();
    if (existing) {
      await repo.update({ id: existing.id }, { granted, changedAt, changedBy: accountId });
      return { ...existing, granted, changedAt, changedBy: accountId };
    }
    const row = { id: randomUUID(), clientId, topic, granted, changedAt, changedBy: accountId };
    await repo.insert(row);
    return row;
  }
}
