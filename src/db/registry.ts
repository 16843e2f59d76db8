import { AccessLogEntity } from '../audit/access-log.entity';
import { AccountEntity } from '../modules/identity/account.entity';
import { AccountCredentialsEntity, ActivationCodeEntity, LoginChallengeEntity, PasswordResetEntity } from '../modules/identity/credentials.entity';
import { PortalLinkEntity } from '../modules/identity/portal-link.entity';
import { RefreshTokenEntity, SessionEntity } from '../modules/identity/session.entity';
import { ClientEntity, ClientSourceEntity } from '../modules/clients/client.entity';
import { SyncEventEntity } from '../events/sync-event.entity';
import { VideoRoomEntity } from '../modules/video/video-room.entity';
import { Platform1764000000000 } from './migrations/1764000000000-Platform';
import { SyncVideo1764100000005 } from './migrations/1764100000005-SyncVideo';
import { OidcSubject1764100000010 } from './migrations/1764100000010-OidcSubject';
import { OwnAccounts1764100000020 } from './migrations/1764100000020-OwnAccounts';
import { PortalConsents1764100000030 } from './migrations/1764100000030-PortalConsents';
import { PortalConsentEntity } from '../modules/consents/portal-consent.entity';
import { InvitationEntity } from '../modules/network/invitation.entity';
import { NetworkInvitations1764100000050 } from './migrations/1764100000050-NetworkInvitations';
import { Messages1764100000040 } from './migrations/1764100000040-Messages';
import { Attachments1764100000060 } from './migrations/1764100000060-Attachments';
import { SyncRetries1764100000070 } from './migrations/1764100000070-SyncRetries';
import { OutboxWithdraw1764100000080 } from './migrations/1764100000080-OutboxWithdraw';
import { ClientNames1764100000090 } from './migrations/1764100000090-ClientNames';
import { Journal1764100000100 } from './migrations/1764100000100-Journal';
import { QuestionnaireDrafts1764100000110 } from './migrations/1764100000110-QuestionnaireDrafts';
import { QuestionnaireDraftEntity } from '../modules/questionnaires/questionnaire-draft.entity';
import { EhrWrites1764100000120 } from './migrations/1764100000120-EhrWrites';
import { EhrWriteEntity } from '../modules/ehr/ehr-write.entity';
import { MessagesOntoEhrWrites1764100000130 } from './migrations/1764100000130-MessagesOntoEhrWrites';
import { Retention1764400000100 } from './migrations/1764400000100-Retention';
import { StoredFileDeletions1764600000100 } from './migrations/1764600000100-StoredFileDeletions';
import { TreatmentEndReports1764800000100 } from './migrations/1764800000100-TreatmentEndReports';
import { EhrWritesSending1764800000200 } from './migrations/1764800000200-EhrWritesSending';
import { StoredFileDeletionEntity } from '../modules/files/stored-file-deletion.entity';
import { JobLeaseEntity, RetentionRemovalEntity } from '../modules/retention/job-lease.entity';
import { ClientTreatmentEndEntity } from '../modules/clients/client-treatment.entity';
import { AccessLogPruneEntity } from '../audit/access-log-prune.entity';
import { ClientStoryEntity, DiaryEntryEntity } from '../modules/journal/journal.entity';
import {
  AttachmentEntity,
  ConversationEntity,
  ConversationParticipantEntity,
  ConversationReaderEntity,
  MessageEntity,
} from '../modules/messages/message.entity';

/** Every entity and migration of the gateway, in one list that the data source and tools share. */
export const entities = [
  AccountEntity,
  PortalLinkEntity,
  ClientEntity,
  ClientSourceEntity,
  AccessLogEntity,
  SessionEntity,
  RefreshTokenEntity,
  SyncEventEntity,
  VideoRoomEntity,
  AccountCredentialsEntity,
  LoginChallengeEntity,
  ActivationCodeEntity,
  PasswordResetEntity,
  PortalConsentEntity,
  ConversationEntity,
  ConversationParticipantEntity,
  MessageEntity,
  ConversationReaderEntity,
  InvitationEntity,
  AttachmentEntity,
  DiaryEntryEntity,
  ClientStoryEntity,
  QuestionnaireDraftEntity,
  EhrWriteEntity,
  JobLeaseEntity,
  AccessLogPruneEntity,
  ClientTreatmentEndEntity,
  RetentionRemovalEntity,
  StoredFileDeletionEntity,
];
export const migrations = [
  Platform1764000000000,
  SyncVideo1764100000005,
  OidcSubject1764100000010,
  OwnAccounts1764100000020,
  PortalConsents1764100000030,
  Messages1764100000040,
  NetworkInvitations1764100000050,
  Attachments1764100000060,
  SyncRetries1764100000070,
  OutboxWithdraw1764100000080,
  ClientNames1764100000090,
  Journal1764100000100,
  QuestionnaireDrafts1764100000110,
  EhrWrites1764100000120,
  MessagesOntoEhrWrites1764100000130,
  Retention1764400000100,
  StoredFileDeletions1764600000100,
  TreatmentEndReports1764800000100,
  EhrWritesSending1764800000200,
];
