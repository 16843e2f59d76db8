import { Arg, Ctx, Extensions, FieldResolver, ID, Mutation, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import { PortalRelation, type PortalAccess } from '../../auth/permissions';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors';
import type { GatewayContext } from '../../graphql/context';
import { requireViewer } from '../../graphql/context';
import { ANSWERS_EVENT_AS_IT_IS } from '../../graphql/execution/live-execution';
import { defineRooms } from '../../live/live-delivery';
import { Client } from '../clients/client.types';
import { present, visibleTo, type Subject } from './ehealth.service';
import { EHEALTH_TOPIC, type EhealthTaskChange } from './ehealth.topics';
import { EhealthLaunch, EhealthModule } from './ehealth.types';

/** The viewer's `sub` for this client's Patient. */
async function subjectOf(ctx: GatewayContext, access: PortalAccess, patientId: string): Promise<Subject | null> {
  const email = access.relation === PortalRelation.SELF ? null : (await ctx.account()).email;
  return ctx.services.ehealth.subjectOf(access, email, patientId, ctx);
}

/** The same, once per operation (a live seat asks subjectOf for each event: a RelatedPerson may be gone). */
function subjectFor(ctx: GatewayContext, access: PortalAccess, patientId: string): Promise<Subject | null> {
  return ctx.once(`ehealth-subject:${access.clientId}:${patientId}`, () => subjectOf(ctx, access, patientId));
}

@Resolver(() => Client)
export class ClientEhealthResolver {
  @FieldResolver(() => [EhealthModule], {
    nullable: true,
    description: 'The eHealth modules assigned to this client through Koppeltaal 2.0 that the viewer carries out.',
  })
  async ehealthModules(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<EhealthModule[]> {
    const { access } = await authorize(ctx, c.id, Action.VIEW_EHEALTH_MODULES);
    const patientId = await ctx.services.ehealth.patientOf(c.id, ctx);
    if (!patientId) return [];
    const modules = await ctx.services.ehealth.list(patientId, await subjectFor(ctx, access, patientId), ctx);
    await ctx.audit(
      { action: 'R', eventType: 'ehealth.modules.read', resource: 'eHealth-modules (Koppeltaal)', clientId: c.id, treatmentRelationship: true },
      access,
    );
    return modules;
  }
}

@Resolver(() => EhealthModule)
export class EhealthResolver {
  @Mutation(() => EhealthLaunch, {
    nullable: true,
    description:
      'Opens an eHealth module: the HTI 2.0 launch token (signed by the gateway, short-lived, single use) and the form the browser posts to the module.',
  })
  async launchEhealthModule(@Arg('taskId', () => ID) taskId: string, @Ctx() ctx: GatewayContext): Promise<EhealthLaunch> {
    requireViewer(ctx);
    const service = ctx.services.ehealth;
    const notFound = () => new NotFoundError('No such eHealth module.');
    const task = await service.task(taskId, ctx);
    const clientId = task?.patientId ? await service.clientOfPatient(task.patientId, ctx) : null;
    // Looked for only among the viewer's own portals: whether a Task of someone else exists is not told.
    if (!task?.patientId || !clientId || !(await ctx.portals()).some((p) => p.clientId === clientId)) throw notFound();
    const { access } = await authorize(ctx, clientId, Action.LAUNCH_EHEALTH_MODULE);
    // Both ways round: the Task's Patient is the one this client's record finds.
    if ((await service.patientOf(clientId, ctx)) !== task.patientId) throw notFound();
    const subject = await subjectFor(ctx, access, task.patientId);
    if (!subject || !visibleTo(task, subject, task.patientId))
      throw new ForbiddenError('This module is carried out by someone else.', { reason: 'NOT_TASK_PERFORMER' });
    const shown = present(task);
    if (!shown?.launchable || !task.launchUrl || !task.device) throw new ConflictError('This module cannot be opened now.', { status: shown?.status ?? null });
    const launch = service.launch({ ...task, launchUrl: task.launchUrl, device: task.device }, subject, task.patientId);
    await ctx.audit(
      {
        action: 'E',
        eventType: 'ehealth.module.launch',
        resource: `eHealth-module: ${task.title} (Task/${task.id}, jti ${launch.jti})`,
        clientId,
        treatmentRelationship: true,
      },
      access,
    );
    ctx.logger.info({ taskId: task.id, jti: launch.jti }, 'eHealth module launched');
    return { url: launch.url, method: launch.method, fields: launch.fields, expiresAt: launch.expiresAt };
  }

  @Subscription(() => EhealthModule, {
    description: "One of this client's eHealth modules changed (its Koppeltaal Task: status, progress).",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { clientId: string }, GatewayContext>) => subscribeEhealth(context, args.clientId),
  })
  @Extensions(ANSWERS_EVENT_AS_IT_IS)
  ehealthModuleChanged(@Root() module: EhealthModule, @Arg('clientId', () => ID) _clientId: string): EhealthModule {
    return module;
  }
}

/** This instance's eHealth rooms: each event authorised again per seat, and shown only to whoever carries the Task out. */
export const EHEALTH_ROOMS = defineRooms<EhealthTaskChange, EhealthModule>('ehealth', () => ({
  topic: EHEALTH_TOPIC,
  action: Action.VIEW_EHEALTH_MODULES,
  present: (change, seats) =>
    Promise.all(
      seats.map(async (seat) => {
        const subject = await subjectOf(seat.ctx, seat.access, change.patientId).catch(() => null);
        const shown = subject && visibleTo(change.task, subject, change.patientId) ? present(change.task) : null;
        // What leaves over the socket is a read of the client's record, as the list is.
        if (shown)
          await seat.ctx.audit(
            {
              action: 'R',
              eventType: 'ehealth.modules.read',
              resource: `eHealth-module (live): ${shown.title}`,
              clientId: change.clientId,
              treatmentRelationship: true,
            },
            seat.access,
          );
        return shown;
      }),
    ),
}));

async function subscribeEhealth(ctx: GatewayContext, clientId: string): Promise<AsyncIterable<EhealthModule>> {
  await authorize(ctx, clientId, Action.VIEW_EHEALTH_MODULES);
  return ctx.services.live.join(EHEALTH_ROOMS, ctx, clientId);
}
