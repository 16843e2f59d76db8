import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { Abilities } from '../../auth/abilities';
import { authorizeClientAccess, type GatewayContext } from '../../graphql/context';
import { reauthorizeLive } from '../../graphql/live-access';
import { shareLiveValue } from '../../graphql/live-execution';
import { Practitioner } from '../appointments/appointment.types';
import { Client } from '../clients/client.types';
import { toPractitioner } from '../dossier/dossier.resolver';
import { isVideoRoomState, videoChannel, type VideoRoomState } from './video.service';
import { VideoCallStatus } from './video.types';

/** What one viewer sees of a room: the join link only for those who may join the call. */
export function presentVideoCall(state: VideoRoomState, can: Abilities): VideoCallStatus {
  return {
    ready: state.ready,
    practitionerId: state.practitionerId,
    joinUrl: state.ready && can.joinVideoCall ? state.joinUrl : null,
    readySince: state.readySince ? new Date(state.readySince) : null,
  };
}

const presented = new WeakMap<VideoRoomState, Map<boolean, VideoCallStatus>>();

/**
 * What a live subscriber sees of one event: the same object for every subscriber with the same
 * right to join (the bus hands all local subscribers one state object), so they share one execution.
 */
function presentVideoCallLive(state: VideoRoomState, can: Abilities): VideoCallStatus {
  let byRight = presented.get(state);
  if (!byRight) presented.set(state, (byRight = new Map()));
  let status = byRight.get(can.joinVideoCall);
  if (!status) byRight.set(can.joinVideoCall, (status = shareLiveValue(presentVideoCall(state, can))));
  return status;
}

@Resolver(() => Client)
export class ClientVideoResolver {
  @FieldResolver(() => VideoCallStatus)
  async videoCall(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<VideoCallStatus> {
    const { can } = await authorizeClientAccess(ctx, c.id, 'viewVideoCall');
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
  videoCallStatusChanged(@Root() status: VideoCallStatus, @Arg('clientId', () => ID) _clientId: string): VideoCallStatus {
    return status;
  }
}

/**
 * Authorises once on subscribe (FORBIDDEN leaves as the subscription's error) and again for every
 * event with the viewer's current links and session, because the operation's context is built
 * once: a right revoked or a session ended while the socket is open ends the stream before the
 * next event goes out.
 */
async function subscribeVideoCall(ctx: GatewayContext, clientId: string): Promise<AsyncIterable<VideoCallStatus>> {
  await authorizeClientAccess(ctx, clientId, 'viewVideoCall');
  const { services } = ctx;
  const controller = new AbortController();
  const source = services.events.subscribe(videoChannel(clientId), controller.signal);
  const done = { done: true, value: undefined } as const;

  const currentRights = async (): Promise<Abilities | null> => (await reauthorizeLive(ctx, clientId, 'viewVideoCall'))?.can ?? null;

  const stop = async (): Promise<IteratorReturnResult<undefined>> => {
    expiresAt = null;
    controller.abort();
    await source.return?.().catch(() => undefined);
    return done;
  };

  // The next bus event, kept across expiry timeouts so no event is read twice or lost.
  let pending: Promise<IteratorResult<unknown>> | null = null;
  // While the room is ready: when it lapses without a refresh, this subscriber is told so.
  let expiresAt: number | null = null;

  const nextEvent = async (): Promise<IteratorResult<unknown> | 'expired'> => {
    pending ??= source.next();
    if (expiresAt === null) return pending;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, expiresAt! - Date.now()) + 50);
    });
    try {
      return await Promise.race([pending, expired]);
    } finally {
      clearTimeout(timer);
    }
  };

  const deliver = async (state: VideoRoomState): Promise<IteratorResult<VideoCallStatus>> => {
    const can = await currentRights();
    if (!can) {
      ctx.logger.info({ clientId }, 'video subscription ended: the viewer no longer has the right');
      return stop();
    }
    expiresAt = state.ready && state.expiresAt ? Date.parse(state.expiresAt) : null;
    return { done: false, value: presentVideoCallLive(state, can) };
  };

  const iterator: AsyncIterableIterator<VideoCallStatus> = {
    async next(): Promise<IteratorResult<VideoCallStatus>> {
      for (;;) {
        let r: IteratorResult<unknown> | 'expired';
        try {
          r = await nextEvent();
        } catch (err) {
          if (controller.signal.aborted) return done;
          throw err;
        }
        if (r === 'expired') {
          const state = await services.video.status(clientId);
          if (state.ready && state.expiresAt) {
            // Refreshed meanwhile (its event is on its way or already delivered): wait for the new expiry.
            expiresAt = Date.parse(state.expiresAt);
            continue;
          }
          return deliver(state);
        }
        pending = null;
        if (r.done) return done;
        if (!isVideoRoomState(r.value) || r.value.clientId !== clientId) continue;
        return deliver(r.value);
      }
    },
    return: stop,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
