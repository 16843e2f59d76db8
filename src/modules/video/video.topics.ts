import { topic } from '../../live/topic';

/** The room state as stored and as carried on the event bus (JSON-safe: dates as ISO strings). */
export interface VideoRoomState {
  clientId: string;
  /**
   * When the event this state comes from was received (null: the room was never reported). States
   * are published after their write, so one may arrive after a later one; a room passes it over.
   */
  at: string | null;
  ready: boolean;
  practitionerId: string | null;
  joinUrl: string | null;
  readySince: string | null;
  /** When readiness lapses without a refresh event; subscribers are told then. */
  expiresAt: string | null;
}

/** Narrows an event-bus payload to a room state (the bus carries unknown JSON). */
export function isVideoRoomState(value: unknown): value is VideoRoomState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.clientId === 'string' && typeof v.ready === 'boolean';
}

/** A client's video room changed (VideoService publishes; the video rooms of videoCallStatusChanged listen). */
export const VIDEO_TOPIC = topic<VideoRoomState>('video', isVideoRoomState);
