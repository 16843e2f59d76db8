import { IsNull, type DataSource, type Repository } from 'typeorm';
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
  markReady(clientId: string, practitionerId: string, joinUrl: string, eventId: string, at = new Date()): Promise<VideoRoomState> {
    return this.apply(clientId, eventId, at, (current) => ({
      ready: true,
      practitionerId,
      joinUrl,
      readySince: current.ready && current.practitionerId === practitionerId && current.readySince ? new Date(current.readySince) : at,
    }));
  }

  markEnded(clientId: string, eventId: string, at = new Date()): Promise<VideoRoomState> {
    return this.apply(clientId, eventId, at, () => ({ ready: false, practitionerId: null, joinUrl: null, readySince: null }));
  }

  /**
   * Applies an event received at `at` to the client's room and publishes the new state, unless the
   * room already holds a later event (late delivery, reprocessing): then nothing changes. Two
   * instances (or two events on one) may apply events to one room at once, so the write is a
   * compare-and-set on the row that was read: a write that finds the row changed since reads it
   * again, and the later event wins whichever write comes first. Costs the same two statements as
   * a read and an upsert when nothing races.
   */
  private async apply(clientId: string, eventId: string, at: Date, next: (current: VideoRoomState) => RoomFields): Promise<VideoRoomState> {
    const repo = this.db.getRepository(VideoRoomEntity);
    for (let attempt = 1; ; attempt++) {
      const existing = await repo.findOneBy({ clientId });
      if (existing && existing.refreshedAt > at) return this.present(clientId, existing, new Date());
      const row: VideoRoomEntity = { clientId, ...next(this.present(clientId, existing, at)), refreshedAt: at, lastEventId: eventId };
      if (await this.write(repo, existing, row)) {
        const state = this.present(clientId, row, at);
        await VIDEO_TOPIC.publish(this.bus, state);
        return state;
      }
      // The sync event is tried again later with backoff (SyncService.process).
      if (attempt >= WRITE_ATTEMPTS) throw new Error(`the video room changed ${WRITE_ATTEMPTS} times while one event was applied to it`);
    }
  }

  /** Writes the room if it is still as read (`existing`, or no row); answers false when another write came first. */
  private async write(repo: Repository<VideoRoomEntity>, existing: VideoRoomEntity | null, row: VideoRoomEntity): Promise<boolean> {
    const { clientId, ...fields } = row;
    if (existing) {
      const result = await repo.update({ clientId, refreshedAt: existing.refreshedAt, lastEventId: existing.lastEventId ?? IsNull() }, fields);
      return result.affected === 1;
    }
    try {
      await repo.insert(row);
      return true;
    } catch (err) {
      // Driver-neutral duplicate detection (MariaDB 1062, SQLite CONSTRAINT): another write made the row, or the error is real.
      if (await repo.existsBy({ clientId })) return false;
      throw err;
    }
  }

  private present(clientId: string, row: VideoRoomEntity | null, now: Date): VideoRoomState {
    const fresh = row?.ready && now.getTime() - row.refreshedAt.getTime() <= this.readyTtlSeconds * 1000;
    if (!row || !fresh) return closedRoom(clientId, row?.refreshedAt ?? null);
    return {
      clientId,
      at: row.refreshedAt.toISOString(),
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

const closedRoom = (clientId: string, at: Date | null): VideoRoomState => ({
  clientId,
  at: at?.toISOString() ?? null,
  ready: false,
  practitionerId: null,
  joinUrl: null,
  readySince: null,
  expiresAt: null,
});

type RoomFields = Pick<VideoRoomEntity, 'ready' | 'practitionerId' | 'joinUrl' | 'readySince'>;

/** A room changed by others this often while one event was applied is left to the sync event's retry. */
const WRITE_ATTEMPTS = 5;
