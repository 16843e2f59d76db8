import { Arg, ID, Mutation, Resolver, Subscription } from 'type-graphql';
import { NotAvailableError } from '../../graphql/errors';
import { Conversation, Message, MessageEvent } from './message.types';

/** Messages and live push arrive with the messages issue; until then these refuse clearly. */
@Resolver()
export class MessagesResolver {
  @Mutation(() => Conversation)
  startConversation(
    @Arg('clientId', () => ID) _clientId: string,
    @Arg('subject') _subject: string,
    @Arg('recipientIds', () => [ID]) _recipientIds: string[],
    @Arg('body') _body: string,
    @Arg('attachmentIds', () => [ID], { nullable: true }) _attachmentIds?: string[],
  ): Conversation {
    throw new NotAvailableError('Messages');
  }

  @Mutation(() => Message)
  postMessage(
    @Arg('conversationId', () => ID) _conversationId: string,
    @Arg('body') _body: string,
    @Arg('attachmentIds', () => [ID], { nullable: true }) _attachmentIds?: string[],
  ): Message {
    throw new NotAvailableError('Messages');
  }

  @Mutation(() => Conversation)
  markConversationRead(@Arg('conversationId', () => ID) _conversationId: string): Conversation {
    throw new NotAvailableError('Messages');
  }

  @Mutation(() => Conversation)
  archiveConversation(@Arg('conversationId', () => ID) _conversationId: string, @Arg('archived', { defaultValue: true }) _archived: boolean): Conversation {
    throw new NotAvailableError('Messages');
  }

  @Mutation(() => Message)
  deleteMessage(@Arg('messageId', () => ID) _messageId: string): Message {
    throw new NotAvailableError('Messages');
  }

  @Subscription(() => MessageEvent, {
    description: "A message arrives in, or is deleted from, one of this client's conversations the viewer may read.",
    subscribe: () => {
      throw new NotAvailableError('Live messages');
    },
  })
  messageAdded(@Arg('clientId', () => ID) _clientId: string): MessageEvent {
    throw new NotAvailableError('Live messages');
  }
}
