import type { Abilities } from '../../auth/abilities';
import { BadUserInputError } from '../../graphql/errors';
import type { ConversationKindValue } from './message.entity';

export const BODY_MAX = 1000;
export const SUBJECT_MAX = 200;

/**
 * Who may read a conversation, beside the treatment team (the EHR side). The client and whoever
 * acts for them read everything; a network member reads a group channel with its MESSAGES_*
 * permission, and a TEAM conversation only when they started or joined it (the client's own
 * conversations with the practitioner stay private) and may still talk to the care organisation.
 */
export function mayReadConversation(can: Abilities, kind: ConversationKindValue, isParticipant: boolean): boolean {
  switch (kind) {
    case 'TEAM':
      return can.actForClient || (can.messageCareOrganisation && isParticipant);
    case 'PERSONAL_NETWORK':
      return can.messagePersonalNetwork;
    case 'TRUST_GROUP':
      return can.messageTrustGroup;
    case 'CARE_ORGANISATION':
      return can.messageCareOrganisation;
  }
}

/** Starting a conversation: the channel's permission; a TEAM conversation is a conversation with the care organisation. */
export function mayStartConversation(can: Abilities, kind: ConversationKindValue): boolean {
  return kind === 'TEAM' ? can.actForClient || can.messageCareOrganisation : mayReadConversation(can, kind, true);
}

/** Whether the messages part of a portal is open to this viewer at all. */
export function mayUseMessages(can: Abilities): boolean {
  return can.actForClient || can.messagePersonalNetwork || can.messageTrustGroup || can.messageCareOrganisation;
}

/** Characters as people count them (an emoji is one), not UTF-16 units. */
const length = (s: string): number => [...s].length;

/** The body after trimming, 1 to 1000 characters; BAD_USER_INPUT naming the limit otherwise. */
export function checkBody(body: string): string {
  const trimmed = body.trim();
  if (length(trimmed) === 0) throw new BadUserInputError(`The message is empty: write 1 to ${BODY_MAX} characters.`, { field: 'body', limit: BODY_MAX });
  if (length(trimmed) > BODY_MAX) throw new BadUserInputError(`The message is ${length(trimmed)} characters; at most ${BODY_MAX} are allowed.`, { field: 'body', limit: BODY_MAX });
  return trimmed;
}

export function checkSubject(subject: string): string {
  const trimmed = subject.trim();
  if (length(trimmed) === 0) throw new BadUserInputError(`The subject is empty: write 1 to ${SUBJECT_MAX} characters.`, { field: 'subject', limit: SUBJECT_MAX });
  if (length(trimmed) > SUBJECT_MAX) throw new BadUserInputError(`The subject is ${length(trimmed)} characters; at most ${SUBJECT_MAX} are allowed.`, { field: 'subject', limit: SUBJECT_MAX });
  return trimmed;
}
