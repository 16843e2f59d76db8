import { Arg, Ctx, Extensions, FieldResolver, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { Action, authorize, type Rights } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { ANSWERS_EVENT_AS_IT_IS } from '../../graphql/execution/live-execution';
import { defineRooms } from '../../live/live-delivery';
import { shareLiveValue } from '../../graphql/execution/live-execution';
import { Practitioner } from '../appointments/appointment.types';
import { Client } from '../clients/client.types';
import { toPractitioner } from '../appointments/practitioners';
import { VIDEO_TOPIC, type VideoRoomState } from './video.topics';
import { VideoCallStatus } from './video.types';

/** What one viewer sees of a room: the join link only for those who may join the call. */
export function presentVideoCall(state: VideoRoomState, can: Rights): VideoCallStatus {
  return {
    id: state.clientId,
    ready: state.ready,
    practitionerId: state.practitionerId,
    joinUrl: state.ready && can.JOIN_VIDEO_CALL ? state.joinUrl : null,
    readySince: state.readySince ? new Date(state.readySince) : null,
  };
}

// A cache, by event object: subscribers with the same right to join share one presented value (and its render).
const presented = new WeakMap<VideoRoomState, Map<boolean, VideoCallStatus>>();

/**
 * What a live subscriber sees of one event: the same object for every subscriber with the same
 * right to join (the bus hands all local subscribers one state object), so they share one execution.
 */
function presentVideoCallLive(state: VideoRoomState, can: Rights): VideoCallStatus {
  let byRight = presented.get(state);
  if (!byRight) presented.set(state, (byRight = new Map<boolean, VideoCallStatus>()));
  let status = byRight.get(can.JOIN_VIDEO_CALL);
  if (!status) byRight.set(can.JOIN_VIDEO_CALL, (status = shareLiveValue(presentVideoCall(state, can))));
  return status;
}

@Resolver(() => Client)
export class ClientVideoResolver {
  @FieldResolver(() => VideoCallStatus, { nullable: true })
  async videoCall(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<VideoCallStatus> {
    const { can } = await authorize(ctx, c.id, Action.VIEW_VIDEO_CALL);
    return presentVideoCall(await ctx.services.video.status(c.id), can);
  }
}

@Resolver(() => VideoCallStatus)
export class VideoResolver {
  @FieldResolver(() => Practitioner, { nullable: true })
  async practitioner(@Root() s: VideoCallStatus, @Ctx() ctx: GatewayContext): Promise<Practitioner | null> {
    if (!s.practitionerId) return null;
    // The event named someone the EHR cannot (or no longer) resolve: show the room, not an error.
    const found = await ctx.ehr.practitioner(s.practitionerId).catch(() => null);
    return found ? toPractitioner(found) : { id: s.practitionerId, name: 'Behandelaar', profession: null, phone: null, email: null };
  }

  @Subscription(() => VideoCallStatus, {
    description: 'The practitioner opened (or closed) the video room for this client.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { clientId: string }, GatewayContext>) => subscribeVideoCall(context, args.clientId),
  })
  // Declares the field and its argument; its subscribe's events are already the answers (ANSWERS_EVENT_AS_IT_IS).
  @Extensions(ANSWERS_EVENT_AS_IT_IS)
  videoCallStatusChanged(@Root() status: VideoCallStatus, @Arg('clientId', () => ID) _clientId: string): VideoCallStatus {
    return status;
  }
}

/** This instance's video rooms: one bus subscription, re-authorisation and lapse timer per client, shared by its sockets. */
export const VIDEO_ROOMS = defineRooms<VideoRoomState, VideoCallStatus>('video', (services) => ({
  topic: VIDEO_TOPIC,
  action: Action.VIEW_VIDEO_CALL,
  present: (state, seats) => seats.map((seat) => presentVideoCallLive(state, seat.can)),
  // The state of the latest event received wins, whichever instance published first.
  order: (state) => (state.at ? Date.parse(state.at) : null),
  // While the room is ready: when it lapses without a refresh, subscribers are told so.
  lapsesAt: (state) => (state.ready && state.expiresAt ? Date.parse(state.expiresAt) : null),
  current: (clientId) => services.video.status(clientId),
  // After a bus outage: the room as it is now (a ready or ended that was published meanwhile).
  resync: async (clientId) => [await services.video.status(clientId)],
}));

/**
 * Authorises once on subscribe (FORBIDDEN leaves as the subscription's error), then takes a seat
 * in the client's room, which authorises again for every event with the viewer's current links
 * and session: a right revoked or a session ended while the socket is open ends the stream before
 * the next event goes out.
 */
async function subscribeVideoCall(ctx: GatewayContext, clientId: string): Promise<AsyncIterable<VideoCallStatus>> {
  await authorize(ctx, clientId, Action.VIEW_VIDEO_CALL);
  return ctx.services.live.join(VIDEO_ROOMS, ctx, clientId);
}
