import type { DataSource } from 'typeorm';
import type { EventBus } from '../../events/event-bus';
import { VideoRoomEntity } from './video-room.entity';
import { VIDEO_TOPIC, type VideoRoomState } from './video.topics';

/**
 * Owns the video_rooms table: what practitioner systems said about each client's room. Readiness
 * lapses VIDEO_READY_TTL_SECONDS after the last ready event, so a room whose practitioner system
 * never sent `videocall.ended` (crash, lost event) does not stay "ready" for ever.
 */
export class VideoService {
  constructor(
    private readonly db: DataSource,
    private readonly bus: EventBus,
    private readonly readyTtlSeconds: number,
  ) {}

  async status(clientId: string, now = new Date()): Promise<VideoRoomState> {
    const row = await this.db.getRepository(VideoRoomEntity).findOneBy({ clientId });
    return this.present(clientId, row, now);
  }

  /** A ready event opens the room or refreshes it; a refresh keeps the original readySince. */
  async markReady(clientId: string, practitionerId: string, joinUrl: string, eventId: string, at = new Date()): Promise<VideoRoomState> {
    const repo = this.db.getRepository(VideoRoomEntity);
    const existing = await repo.findOneBy({ clientId });
    // An event older than what we already applied (late delivery, reprocessing) changes nothing.
    if (existing && existing.refreshedAt > at) return this.present(clientId, existing, new Date());
    const current = this.present(clientId, existing, at);
    const readySince = current.ready && current.practitionerId === practitionerId && current.readySince ? new Date(current.readySince) : at;
    // One statement (INSERT … ON DUPLICATE KEY / ON CONFLICT UPDATE), not save()'s SELECT before its write.
    await repo.upsert({ clientId, ready: true, practitionerId, joinUrl, readySince, refreshedAt: at, lastEventId: eventId }, ['clientId']);
    const state: VideoRoomState = { clientId, ready: true, practitionerId, joinUrl, readySince: readySince.toISOString(), expiresAt: this.expiry(at) };
    await VIDEO_TOPIC.publish(this.bus, state);
    return state;
  }

  async markEnded(clientId: string, eventId: string, at = new Date()): Promise<VideoRoomState> {
    const repo = this.db.getRepository(VideoRoomEntity);
    const existing = await repo.findOneBy({ clientId });
    if (existing && existing.refreshedAt > at) return this.present(clientId, existing, new Date());
    await repo.upsert({ clientId, ready: false, practitionerId: null, joinUrl: null, readySince: null, refreshedAt: at, lastEventId: eventId }, ['clientId']);
    const state = closedRoom(clientId);
    await VIDEO_TOPIC.publish(this.bus, state);
    return state;
  }

  private present(clientId: string, row: VideoRoomEntity | null, now: Date): VideoRoomState {
    const fresh = row?.ready && now.getTime() - row.refreshedAt.getTime() <= this.readyTtlSeconds * 1000;
    if (!row || !fresh) return closedRoom(clientId);
    return {
      clientId,
      ready: true,
      practitionerId: row.practitionerId,
      joinUrl: row.joinUrl,
      readySince: row.readySince?.toISOString() ?? null,
      expiresAt: this.expiry(row.refreshedAt),
    };
  }

  private expiry(refreshedAt: Date): string {
    return new Date(refreshedAt.getTime() + this.readyTtlSeconds * 1000).toISOString();
  }
}

const closedRoom = (clientId: string): VideoRoomState => ({ clientId, ready: false, practitionerId: null, joinUrl: null, readySince: null, expiresAt: null });
