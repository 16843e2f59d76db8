import { topic } from '../../live/topic';

/** What the bus carries on a client's messages channel: a signal to look in the database. */
export interface MessageSignal {
  clientId: string;
  conversationId: string;
  messageId: string;
  kind: 'ADDED' | 'DELETED';
}

export function isMessageSignal(value: unknown): value is MessageSignal {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.clientId === 'string' && typeof v.conversationId === 'string' && typeof v.messageId === 'string' && (v.kind === 'ADDED' || v.kind === 'DELETED')
  );
}

/** A message was added to or deleted from one of a client's conversations (MessagesService publishes; the rooms of messageAdded listen). */
export const MESSAGE_TOPIC = topic<MessageSignal>('messages', isMessageSignal);
