import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { MemoryMailer } from '../adapters/mail/mail';
import { Action, PARENT_ACCESS, Reason, RULES } from '../src/auth/access';
import { authorisationMarkdown, OPERATIONS, readmeRightsBlock, README_BEGIN, README_END, ROUTES, type OperationAccess } from '../src/auth/operations';
import { ALL_PERMISSIONS, Permission, PortalRelation } from '../src/auth/permissions';
import { MUST_CHANGE_PASSWORD } from '../src/modules/identity/sessions.service';
import { buildGatewaySchema } from '../src/schema';
import { InvitationEntity } from '../src/modules/network/invitation.entity';
import { addDemoClient, approvedPlan, bornYearsAgo } from './factories';
import { startTestApp, type TestApp } from './utils/app';
import { postSignedSync, subscribeTo, type Received } from './utils/live';

/**
 * The authorisation matrix: every actor × every operation of the schema and every HTTP route,
 * against the outcome the rule table (src/auth/access.ts RULES, src/auth/operations.ts) says. A
 * field, mutation, subscription or route without a row (or without a probe here) fails; a cell
 * whose answer differs from the table is named, a leak (data where the table refuses) first.
 */

type Outcome = 'ALLOW' | 'UNAUTHENTICATED' | 'NOT_FOUND' | Reason;
type TargetName = 'karen' | 'sanne' | 'daan' | 'lotte' | 'mees' | 'endedReadOnly' | 'endedClosed';

interface Situation {
  session: boolean;
  mustChangePassword?: boolean;
  relation?: PortalRelation;
  permissions?: readonly Permission[];
  admin?: boolean;
}

interface Actor {
  name: string;
  target: TargetName;
  situation: Situation;
  email?: string;
  token?: string;
  accountId?: string;
}

interface Target {
  clientId: string;
  age: number;
  treatment: 'open' | 'read-only' | 'closed';
  consent: boolean;
  /** A TEAM conversation a practitioner started (nobody of the network takes part) and its message. */
  team: { conversationId: string; messageId: string };
  documentId: string;
  /** A session report that asks for akkoord. */
  reportId: string;
  /** A goal the client added to the (approved) plan. */
  goalId: string;
  /** An open questionnaire assignment. */
  assignmentId: string;
  /** An appointment ten days ahead. */
  appointmentId: string;
  planId: string;
  memberId: string;
  /** One of the demo Koppeltaal domain's Tasks for the client (adapters/koppeltaal/demo-koppeltaal.ts). */
  ehealthTaskId: string;
}

const GATE_REASONS = new Set<string>(Object.values(Reason));

/**
 * The expected outcome of one action for one actor on one client: the rule table read as the
 * documentation states it (docs/authorisation.md), independently of the gate's own code.
 */
function expected(s: Situation, t: Target, action: Action, participant = false): Outcome {
  if (!s.session) return 'UNAUTHENTICATED';
  if (s.mustChangePassword) return Reason.PASSWORD_CHANGE_REQUIRED;
  if (!s.relation) return Reason.NO_RELATION;
  const rule = RULES[action];
  if (rule.clientOnly) {
    if (s.relation !== PortalRelation.SELF) return Reason.CLIENT_ONLY;
  } else if (s.relation === PortalRelation.NETWORK_MEMBER) {
    const held = (rule.admins && s.admin) || rule.members.some((set) => set.every((p) => s.permissions?.includes(p)));
    if (!held || (rule.membersAsParticipant && !participant)) return Reason.NO_PERMISSION;
  }
  if (s.relation === PortalRelation.SELF && t.age < 12) return Reason.OWN_LOGIN_FROM_12;
  if (t.treatment === 'closed') return Reason.TREATMENT_ENDED;
  if (t.treatment === 'read-only' && rule.writes) return Reason.PORTAL_READ_ONLY;
  if (s.relation === PortalRelation.PARENT && t.age >= 16 && !t.consent) return Reason.CHILD_DECIDES;
  return 'ALLOW';
}

function expectedAll(s: Situation, t: Target, actions: readonly Action[], participant = false): Outcome {
  for (const action of actions) {
    const outcome = expected(s, t, action, participant);
    if (outcome !== 'ALLOW') return outcome;
  }
  return 'ALLOW';
}

function expectedFor(access: OperationAccess, s: Situation, t: Target, extra: readonly Action[] = [], participant = false): Outcome | 'ANY' {
  switch (access.kind) {
    case 'public':
      return 'ANY';
    case 'session':
      return s.session ? 'ALLOW' : 'UNAUTHENTICATED';
    case 'client':
    case 'object':
      return expectedAll(s, t, [...access.actions, ...extra], participant);
  }
}

type GqlBody = { data?: Record<string, unknown> | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };

/** What the gateway answered at `path`: a refusal by the gate (its reason), no session, or passed (data, or a domain answer). */
function outcomeOf(body: GqlBody, path: string[]): Outcome {
  const error = body.errors?.find((e) => !e.path || e.path.every((p, i) => path[i] === p));
  if (!error) return 'ALLOW';
  const code = error.extensions?.code;
  const reason = error.extensions?.reason as string | undefined;
  if (code === 'UNAUTHENTICATED' && /Log in|session/i.test(error.message)) return 'UNAUTHENTICATED';
  if (code === 'FORBIDDEN' && reason && GATE_REASONS.has(reason)) return reason as Reason;
  if (code === 'NOT_FOUND' && reason !== 'NOT_IMPLEMENTED') return 'NOT_FOUND';
  return 'ALLOW';
}

interface Probe {
  /** The schema coordinate this probe calls, e.g. Mutation.postMessage. */
  op: string;
  variant?: string;
  query: string;
  vars(t: Target): Record<string, unknown>;
  /** Actions beyond the operation's row (a conversation's kind). */
  extra?: readonly Action[];
  /** The probe ends or changes the actor's session: it gets a session of its own. */
  freshSession?: boolean;
  /** A network member takes part in what the operation makes (starting a TEAM conversation). */
  participant?: boolean;
}

const CLIENT_FIELD: Record<string, string> = {
  id: 'id',
  name: 'name',
  birthDate: 'birthDate',
  dashboard: 'dashboard { upcomingAppointmentCount dossierPartCount nextAppointment { start } activity { newDocuments newMessages } }',
  appointments: 'appointments(when: ALL) { id start practitioner { name } report { title } }',
  dossier: 'dossier { __typename }',
  conversations: 'conversations(folder: ALL) { id subject }',
  conversationsConnection: 'conversationsConnection(folder: ALL, first: 5) { edges { node { id subject } } }',
  questionnaires: 'questionnaires { id }',
  diary: 'diary { id }',
  story: 'story { text }',
  consents: 'consents { id granted }',
  network: 'network { id status }',
  videoCall: 'videoCall { ready joinUrl }',
  ehealthModules: 'ehealthModules { id status }',
  accessLog: 'accessLog(first: 5) { actor action }',
  accessLogConnection: 'accessLogConnection(first: 5) { edges { node { actor action } } }',
};
const DOSSIER_FIELD: Record<string, string> = {
  id: 'id',
  overview: 'overview { dossierNumber }',
  intakeReport: 'intakeReport { sections { title } }',
  medications: 'medications { name }',
  allergies: 'allergies { substance }',
  contraIndications: 'contraIndications { description }',
  insurance: 'insurance { insurer }',
  treatmentPlan: 'treatmentPlan { id status }',
  treatmentTeam: 'treatmentTeam { role }',
  treatmentEffort: 'treatmentEffort { plannedMinutes }',
  reports: 'reports { id }',
  documents: 'documents { id name }',
};

function probes(): Probe[] {
  const list: Probe[] = [
    { op: 'Query.me', query: '{ me { id portals { relation } } }', vars: () => ({}) },
    { op: 'Query.client', query: 'query($c: ID!) { client(id: $c) { id } }', vars: (t) => ({ c: t.clientId }) },
    ...Object.entries(CLIENT_FIELD).map(([field, selection]) => ({
      op: `Client.${field}`,
      query: `query($c: ID!) { client(id: $c) { ${selection} } }`,
      vars: (t: Target) => ({ c: t.clientId }),
    })),
    ...Object.entries(DOSSIER_FIELD).map(([field, selection]) => ({
      op: `Dossier.${field}`,
      query: `query($c: ID!) { client(id: $c) { dossier { ${selection} } } }`,
      vars: (t: Target) => ({ c: t.clientId }),
    })),
    { op: 'Mutation.login', query: 'mutation { login(email: "nobody@demo.test", password: "wrong") { challengeId } }', vars: () => ({}) },
    { op: 'Mutation.verifyLoginCode', query: 'mutation { verifyLoginCode(challengeId: "x", code: "000000") { accessToken } }', vars: () => ({}) },
    { op: 'Mutation.resendLoginCode', query: 'mutation { resendLoginCode(challengeId: "x") }', vars: () => ({}) },
    { op: 'Mutation.refreshSession', query: 'mutation { refreshSession(refreshToken: "x") { accessToken } }', vars: () => ({}) },
    { op: 'Mutation.requestPasswordReset', query: 'mutation { requestPasswordReset(email: "nobody@demo.test") }', vars: () => ({}) },
    { op: 'Mutation.resetPassword', query: 'mutation { resetPassword(token: "x", newPassword: "y") }', vars: () => ({}) },
    {
      op: 'Mutation.registerWithInvitation',
      query: 'mutation { registerWithInvitation(token: "x", displayName: "X", password: "y") { accessToken } }',
      vars: () => ({}),
    },
    { op: 'Mutation.logout', query: 'mutation { logout }', vars: () => ({}), freshSession: true },
    {
      op: 'Mutation.changePassword',
      query: 'mutation { changePassword(currentPassword: "not-it", newPassword: "Ander-Wachtwoord-77!") { accessToken } }',
      vars: () => ({}),
    },
    { op: 'Mutation.requestPhoneNumberChange', query: 'mutation { requestPhoneNumberChange(phone: "geen nummer") }', vars: () => ({}) },
    { op: 'Mutation.confirmPhoneNumber', query: 'mutation { confirmPhoneNumber(code: "000000") }', vars: () => ({}) },
    { op: 'Mutation.setLoginCodeChannel', query: 'mutation { setLoginCodeChannel(channel: SMS) }', vars: () => ({}) },
    { op: 'Mutation.updateNotificationSettings', query: 'mutation { updateNotificationSettings(input: {}) { newMessage } }', vars: () => ({}) },
    {
      op: 'Mutation.activatePortal',
      query: 'mutation { activatePortal(activationCode: "XXXX-XXXX", birthDate: "2000-01-01") { relation } }',
      vars: () => ({}),
    },
    { op: 'Mutation.acceptInvitation', query: 'mutation { acceptInvitation(token: "x") { relation } }', vars: () => ({}) },
    { op: 'Mutation.setPreferredPortal', query: 'mutation($c: ID!) { setPreferredPortal(clientId: $c) { id } }', vars: (t) => ({ c: t.clientId }) },
    // A draft (nothing sent), so the assignment stays open for the next actor.
    {
      op: 'Mutation.saveQuestionnaireAnswers',
      query: 'mutation($a: ID!) { saveQuestionnaireAnswers(assignmentId: $a, answers: [{ questionId: "q1", value: "Goed" }]) { id } }',
      vars: (t) => ({ a: t.assignmentId }),
    },
    {
      op: 'Mutation.addTreatmentGoal',
      query: 'mutation($c: ID!) { addTreatmentGoal(clientId: $c, description: "") { id } }',
      vars: (t) => ({ c: t.clientId }),
    },
    // Every plan is approved: whoever passes the gate hears PLAN_APPROVED (the plan's rule), and the goal stays for the next actor.
    { op: 'Mutation.removeTreatmentGoal', query: 'mutation($g: ID!) { removeTreatmentGoal(goalId: $g) { id } }', vars: (t) => ({ g: t.goalId }) },
    // The plan is approved already and the document asks for nothing: whoever passes the gate changes nothing.
    { op: 'Mutation.approveTreatmentPlan', query: 'mutation($p: ID!) { approveTreatmentPlan(planId: $p) { id } }', vars: (t) => ({ p: t.planId }) },
    { op: 'Mutation.approveDocument', query: 'mutation($d: ID!) { approveDocument(documentId: $d) { id } }', vars: (t) => ({ d: t.documentId }) },
    // A reason over the limit: whoever passes the gate hears BAD_USER_INPUT, and the appointment stays for the next actor.
    {
      op: 'Mutation.cancelAppointment',
      query: 'mutation($a: ID!, $r: String) { cancelAppointment(appointmentId: $a, reason: $r) }',
      vars: (t) => ({ a: t.appointmentId, r: 'x'.repeat(501) }),
    },
    // No such upload: whoever passes the gate hears BAD_USER_INPUT (nothing filed).
    {
      op: 'Mutation.addDocument',
      query: 'mutation($c: ID!) { addDocument(clientId: $c, uploadId: "no-such-upload", title: "Formulier") { id } }',
      vars: (t) => ({ c: t.clientId }),
    },
    { op: 'Mutation.approveReport', query: 'mutation($r: ID!) { approveReport(reportId: $r) { id approvedAt } }', vars: (t) => ({ r: t.reportId }) },
    {
      op: 'Mutation.setConsent',
      query: 'mutation($id: ID!) { setConsent(consentId: $id, granted: false) { granted } }',
      vars: (t) => ({ id: `portal:${t.clientId}:${PARENT_ACCESS}` }),
    },
    {
      op: 'Mutation.setConsent',
      variant: 'EHR',
      query: 'mutation($id: ID!) { setConsent(consentId: $id, granted: true) { granted } }',
      vars: (t) => ({ id: `ehr:${t.clientId}:demo:huisarts` }),
    },
    { op: 'Mutation.addDiaryEntry', query: 'mutation($c: ID!) { addDiaryEntry(clientId: $c, text: "") { id } }', vars: (t) => ({ c: t.clientId }) },
    {
      op: 'Mutation.saveClientStory',
      query: 'mutation($c: ID!) { saveClientStory(clientId: $c, text: "", shareWithOrganisation: false) { text } }',
      vars: (t) => ({ c: t.clientId }),
    },
    {
      op: 'Mutation.inviteNetworkMember',
      query: 'mutation($c: ID!) { inviteNetworkMember(clientId: $c, input: { name: "X", email: "geen-adres", language: "nl", permissions: [] }) { id } }',
      vars: (t) => ({ c: t.clientId }),
    },
    {
      op: 'Mutation.setNetworkPermissions',
      query: 'mutation($m: ID!) { setNetworkPermissions(memberId: $m, permissions: [QUESTIONNAIRES_FILL]) { id } }',
      vars: (t) => ({ m: t.memberId }),
    },
    // A fresh invitation for each call (made in the loop), so removing one leaves the others.
    { op: 'Mutation.removeNetworkMember', query: 'mutation($m: ID!) { removeNetworkMember(memberId: $m) }', vars: () => ({}) },
    {
      op: 'Mutation.launchEhealthModule',
      query: 'mutation($t: ID!) { launchEhealthModule(taskId: $t) { url } }',
      vars: (t) => ({ t: t.ehealthTaskId }),
    },
    // Messages: a TEAM conversation a practitioner started, where no network member takes part.
    {
      op: 'Mutation.postMessage',
      variant: 'TEAM',
      query: 'mutation($id: ID!) { postMessage(conversationId: $id, body: "") { id } }',
      vars: (t) => ({ id: t.team.conversationId }),
      extra: [Action.MESSAGES_TEAM],
    },
    {
      op: 'Client.conversation',
      variant: 'TEAM',
      query: 'query($c: ID!, $id: ID!) { client(id: $c) { conversation(id: $id) { id subject messagesConnection(last: 2) { edges { node { body } } } } } }',
      vars: (t) => ({ c: t.clientId, id: t.team.conversationId }),
      extra: [Action.MESSAGES_TEAM],
    },
    {
      op: 'Mutation.markConversationRead',
      variant: 'TEAM',
      query: 'mutation($id: ID!) { markConversationRead(conversationId: $id) { id } }',
      vars: (t) => ({ id: t.team.conversationId }),
      extra: [Action.MESSAGES_TEAM],
    },
    {
      op: 'Mutation.archiveConversation',
      variant: 'TEAM',
      query: 'mutation($id: ID!) { archiveConversation(conversationId: $id, archived: false) { id } }',
      vars: (t) => ({ id: t.team.conversationId }),
      extra: [Action.MESSAGES_TEAM],
    },
    {
      op: 'Mutation.deleteMessage',
      variant: 'TEAM',
      query: 'mutation($id: ID!) { deleteMessage(messageId: $id) { id } }',
      vars: (t) => ({ id: t.team.messageId }),
      extra: [Action.MESSAGES_TEAM],
    },
  ];
  for (const [kind, action] of [
    ['TEAM', Action.MESSAGES_TEAM],
    ['PERSONAL_NETWORK', Action.MESSAGES_PERSONAL_NETWORK],
    ['TRUST_GROUP', Action.MESSAGES_TRUST_GROUP],
    ['CARE_ORGANISATION', Action.MESSAGES_CARE_ORGANISATION],
  ] as const) {
    // An empty subject: whoever passes the gate is told BAD_USER_INPUT, so nothing is started.
    list.push({
      op: 'Mutation.startConversation',
      variant: kind,
      query: `mutation($c: ID!) { startConversation(clientId: $c, subject: "", recipientIds: [], body: "x", kind: ${kind}) { id } }`,
      vars: (t) => ({ c: t.clientId }),
      extra: [action],
      participant: true,
    });
  }
  return list;
}

describe('the authorisation matrix: every actor × every operation and route', () => {
  let t: TestApp;
  const demo = new DemoEhrAdapter();
  const mail = new MemoryMailer();
  const targets = {} as Record<TargetName, Target>;
  const actors: Actor[] = [];
  const fresh = new Map<string, () => Promise<string>>();

  beforeAll(async () => {
    // The plan is approved already, so approving it again changes nothing for whoever may.
    const karenRecord = demo.data.clients.find((c) => c.client.externalId === 'cl-karen')!;
    for (const child of ['cl-sanne', 'cl-daan']) {
      demo.data.clients.find((c) => c.client.externalId === child)!.plan = approvedPlan(`bp-${child}`);
      demo.data.clients
        .find((c) => c.client.externalId === child)!
        .documents.push({
          externalId: `dc-${child}`,
          name: 'Verwijsbrief.pdf',
          mediaType: 'application/pdf',
          uploadedBy: 'Secretariaat',
          uploadedAt: new Date().toISOString(),
          needsApproval: false,
          approvedAt: null,
          content: '%PDF-1.4 verwijsbrief',
        });
    }
    // Every target client has a session report that asks for akkoord (approveReport's probe).
    const reportFor = (externalId: string, name: string) => {
      const record = demo.data.clients.find((c) => c.client.externalId === externalId)!;
      record.reports.push({
        externalId: `rp-matrix-${name}`,
        date: new Date().toISOString(),
        title: 'Verslag',
        body: 'Besproken.',
        needsApproval: true,
        authorId: 'pr-jansen',
      });
      record.plan!.goals.push({ externalId: `gl-matrix-${name}`, description: 'Eigen doel', addedBy: 'De cliënt', byClient: true });
      const start = new Date(Date.now() + 10 * 86_400_000).toISOString();
      record.appointments.push({
        externalId: `ap-matrix-${name}`,
        start,
        end: new Date(Date.parse(start) + 45 * 60_000).toISOString(),
        type: 'Behandeling',
        practitionerId: 'pr-jansen',
        online: false,
      });
      if (!record.consents?.some((c) => c.topic === 'huisarts'))
        record.consents = [...(record.consents ?? []), { topic: 'huisarts', description: 'Delen met de huisarts', granted: true }];
      record.questionnaires = [
        ...(record.questionnaires ?? []),
        {
          externalId: `vl-matrix-${name}`,
          questionnaire: 'https://ggz-demo.test/fhir/Questionnaire/matrix',
          title: 'Hoe gaat het?',
          assignedAt: new Date().toISOString(),
          pages: [{ questions: [{ id: 'q1', text: 'Hoe gaat het?', type: 'TEXT', required: false }] }],
        },
      ];
    };
    karenRecord.plan!.status = 'APPROVED';
    karenRecord.plan!.approvedAt = new Date().toISOString();
    addDemoClient(demo, { externalId: 'cl-lotte', name: 'Lotte de Wit', birthDate: bornYearsAgo(17.2) });
    addDemoClient(demo, { externalId: 'cl-mees', name: 'Mees de Wit', birthDate: bornYearsAgo(16.4) });
    addDemoClient(demo, { externalId: 'cl-ended-ro', name: 'Anna Afgesloten', birthDate: bornYearsAgo(40), treatmentEndedDaysAgo: 10 });
    addDemoClient(demo, { externalId: 'cl-ended-closed', name: 'Bram Gesloten', birthDate: bornYearsAgo(50), treatmentEndedDaysAgo: 60 });
    for (const [externalId, name] of [
      ['cl-karen', 'karen'],
      ['cl-sanne', 'sanne'],
      ['cl-daan', 'daan'],
      ['cl-lotte', 'lotte'],
      ['cl-mees', 'mees'],
      ['cl-ended-ro', 'endedReadOnly'],
      ['cl-ended-closed', 'endedClosed'],
    ])
      reportFor(externalId, name);
    t = await startTestApp({ adapters: { demo }, mail, env: { TREATMENT_END_GRACE_DAYS: '0', TREATMENT_END_READ_ONLY_DAYS: '30', LOG_LEVEL: 'warn' } });
    const s = t.app.services;
    const clientOf = (externalId: string) => s.clients.ensureClient({ source: 'demo', externalId });
    const account = async (email: string, name: string) => (await s.accounts.findByEmail(email)) ?? (await s.accounts.create({ email, displayName: name }));
    const link = async (
      email: string,
      clientId: string,
      relation: PortalRelation,
      permissions: readonly Permission[] = ALL_PERMISSIONS,
      admin = relation !== PortalRelation.NETWORK_MEMBER,
    ) => {
      const a = await account(email, email.split('@')[0]);
      await s.accounts.link(a.id, clientId, relation, [...permissions], admin);
      return a;
    };

    const ids = {
      karen: await clientOf('cl-karen'),
      sanne: await clientOf('cl-sanne'),
      daan: await clientOf('cl-daan'),
      lotte: await clientOf('cl-lotte'),
      mees: await clientOf('cl-mees'),
      endedReadOnly: await clientOf('cl-ended-ro'),
      endedClosed: await clientOf('cl-ended-closed'),
    };
    await s.consents.set(ids.mees, PARENT_ACCESS, true, 'matrix');
    const situations: Record<TargetName, Pick<Target, 'age' | 'treatment' | 'consent'>> = {
      karen: { age: 38, treatment: 'open', consent: false },
      sanne: { age: 14, treatment: 'open', consent: false },
      daan: { age: 9, treatment: 'open', consent: false },
      lotte: { age: 17, treatment: 'open', consent: false },
      mees: { age: 16, treatment: 'open', consent: true },
      endedReadOnly: { age: 40, treatment: 'read-only', consent: false },
      endedClosed: { age: 50, treatment: 'closed', consent: false },
    };
    const documents: Record<TargetName, string> = {
      karen: 'demo:dc-k-2',
      sanne: 'demo:dc-cl-sanne',
      daan: 'demo:dc-cl-daan',
      lotte: 'demo:dc-cl-lotte',
      mees: 'demo:dc-cl-mees',
      endedReadOnly: 'demo:dc-cl-ended-ro',
      endedClosed: 'demo:dc-cl-ended-closed',
    };
    for (const name of Object.keys(ids) as TargetName[]) {
      const message = await s.messages.receiveFromPractitioner({
        clientId: ids[name],
        eventId: randomUUID(),
        subject: 'Van uw behandelaar',
        practitionerId: 'demo:pr-jansen',
        body: 'Tot de volgende afspraak.',
        at: new Date(),
      });
      const owner = await account('owner@matrix.test', 'Eigenaar');
      const { member } = await s.network.invite(ids[name], owner.id, {
        name: 'Uitgenodigd',
        email: `invited-${name}@matrix.test`,
        language: 'nl',
        permissions: [Permission.AGENDA_VIEW],
      });
      targets[name] = {
        clientId: ids[name],
        ...situations[name],
        team: { conversationId: message.conversationId, messageId: message.id },
        documentId: documents[name],
        reportId: `demo:rp-matrix-${name}`,
        goalId: `demo:gl-matrix-${name}`,
        assignmentId: `demo:vl-matrix-${name}`,
        appointmentId: `demo:ap-matrix-${name}`,
        planId: name === 'karen' ? 'demo:bp-k-1' : `demo:bp-${documents[name].slice('demo:dc-'.length)}`,
        memberId: member.id,
        ehealthTaskId: `${name === 'karen' ? 'cl-karen' : documents[name].slice('demo:dc-'.length)}.psycho`,
      };
    }

    const add = (actor: Actor) => actors.push(actor);
    await link('client@demo.test', ids.karen, PortalRelation.SELF);
    add({ name: 'adult client (SELF)', target: 'karen', email: 'client@demo.test', situation: { session: true, relation: PortalRelation.SELF } });
    await link('sanne@matrix.test', ids.sanne, PortalRelation.SELF);
    add({ name: 'child of 14, own login', target: 'sanne', email: 'sanne@matrix.test', situation: { session: true, relation: PortalRelation.SELF } });
    add({ name: 'parent of the child of 14', target: 'sanne', email: 'parent@demo.test', situation: { session: true, relation: PortalRelation.PARENT } });
    add({ name: 'child of 9, DigiD login (no own portal)', target: 'daan', email: 'daan@matrix.test', situation: { session: true } });
    await account('daan@matrix.test', 'Daan');
    await link('daan.self@matrix.test', ids.daan, PortalRelation.SELF);
    add({ name: 'child of 9 with a SELF link', target: 'daan', email: 'daan.self@matrix.test', situation: { session: true, relation: PortalRelation.SELF } });
    add({ name: 'parent of the child of 9', target: 'daan', email: 'parent@demo.test', situation: { session: true, relation: PortalRelation.PARENT } });
    await link('lotte@matrix.test', ids.lotte, PortalRelation.SELF);
    add({ name: 'child of 17, own login', target: 'lotte', email: 'lotte@matrix.test', situation: { session: true, relation: PortalRelation.SELF } });
    await link('parent2@matrix.test', ids.lotte, PortalRelation.PARENT);
    await link('parent2@matrix.test', ids.mees, PortalRelation.PARENT);
    add({
      name: 'parent of a child of 17 without consent',
      target: 'lotte',
      email: 'parent2@matrix.test',
      situation: { session: true, relation: PortalRelation.PARENT },
    });
    add({
      name: 'parent of a child of 16 with consent',
      target: 'mees',
      email: 'parent2@matrix.test',
      situation: { session: true, relation: PortalRelation.PARENT },
    });
    for (const permission of ALL_PERMISSIONS) {
      const email = `member-${permission.toLowerCase()}@matrix.test`;
      await link(email, ids.karen, PortalRelation.NETWORK_MEMBER, [permission], false);
      add({
        name: `network member with only ${permission}`,
        target: 'karen',
        email,
        situation: { session: true, relation: PortalRelation.NETWORK_MEMBER, permissions: [permission] },
      });
    }
    await link('admin@matrix.test', ids.karen, PortalRelation.NETWORK_MEMBER, [Permission.AGENDA_VIEW], true);
    add({
      name: 'care-page admin (AGENDA_VIEW)',
      target: 'karen',
      email: 'admin@matrix.test',
      situation: { session: true, relation: PortalRelation.NETWORK_MEMBER, permissions: [Permission.AGENDA_VIEW], admin: true },
    });
    await link('representative@matrix.test', ids.karen, PortalRelation.REPRESENTATIVE);
    add({
      name: 'representative',
      target: 'karen',
      email: 'representative@matrix.test',
      situation: { session: true, relation: PortalRelation.REPRESENTATIVE },
    });
    add({ name: 'stranger', target: 'karen', email: 'stranger@demo.test', situation: { session: true } });
    const expiredInvitation = await s.network.invite(ids.karen, (await account('client@demo.test', 'Karen')).id, {
      name: 'Laat',
      email: 'late@matrix.test',
      language: 'nl',
      permissions: [Permission.AGENDA_VIEW],
    });
    await t.app.db.getRepository(InvitationEntity).update({ id: expiredInvitation.invitation.id }, { expiresAt: new Date(Date.now() - 1000) });
    await account('late@matrix.test', 'Laat');
    add({ name: 'account whose invitation expired', target: 'karen', email: 'late@matrix.test', situation: { session: true } });
    add({ name: 'revoked session', target: 'karen', email: 'client@demo.test', situation: { session: false, relation: PortalRelation.SELF } });
    add({ name: 'no session', target: 'karen', situation: { session: false } });
    await link('anna@matrix.test', ids.endedReadOnly, PortalRelation.SELF);
    add({
      name: 'client whose treatment ended (read-only window)',
      target: 'endedReadOnly',
      email: 'anna@matrix.test',
      situation: { session: true, relation: PortalRelation.SELF },
    });
    await link('bram@matrix.test', ids.endedClosed, PortalRelation.SELF);
    add({
      name: 'client whose treatment ended (closed)',
      target: 'endedClosed',
      email: 'bram@matrix.test',
      situation: { session: true, relation: PortalRelation.SELF },
    });
    const forced = await link('forced@matrix.test', ids.karen, PortalRelation.NETWORK_MEMBER, [...ALL_PERMISSIONS], true);
    // A password set for the account (staff reset, first login): the account must replace it first.
    await s.ownAccounts.setPassword(forced.id, 'Tijdelijk-Gezet-48!', true);
    add({
      name: 'a password that must be replaced first',
      target: 'karen',
      email: 'forced@matrix.test',
      situation: { session: true, mustChangePassword: true, relation: PortalRelation.NETWORK_MEMBER, permissions: ALL_PERMISSIONS, admin: true },
    });

    for (const actor of actors) {
      if (!actor.email) continue;
      const a = (await s.accounts.findByEmail(actor.email))!;
      actor.accountId = a.id;
      const login = async () => (await s.sessions.create(a.id, actor.situation.mustChangePassword ? `password${MUST_CHANGE_PASSWORD}` : 'dev')).accessToken;
      fresh.set(actor.name, login);
      actor.token = await login();
      if (actor.name === 'revoked session') await t.gql('mutation { logout }', undefined, actor.token);
    }
  });
  afterAll(async () => t.stop());

  it('has a row in the rule table and a probe for every field of Query, Mutation, Subscription, Client and Dossier', async () => {
    const schema = await buildGatewaySchema();
    const coordinates = (['Query', 'Mutation', 'Subscription', 'Client', 'Dossier'] as const).flatMap((type) =>
      Object.keys((schema.getType(type) as { getFields(): object }).getFields()).map((f) => `${type}.${f}`),
    );
    // ehealthModuleChanged: its refusals and per-seat filter are in test/koppeltaal.test.ts (an event needs the Koppeltaal rest-hook).
    const probed = new Set([
      ...probes().map((p) => p.op),
      'Subscription.messageAdded',
      'Subscription.videoCallStatusChanged',
      'Subscription.ehealthModuleChanged',
    ]);
    expect(coordinates.filter((c) => !OPERATIONS[c])).toEqual([]);
    expect(coordinates.filter((c) => !probed.has(c))).toEqual([]);
    expect(Object.keys(OPERATIONS).filter((c) => !coordinates.includes(c))).toEqual([]);
  });

  it('answers every operation over HTTP as the rule table says, for every actor: 0 leaks', async () => {
    const leaks: string[] = [];
    const wrong: string[] = [];
    let cells = 0;
    for (const probe of probes()) {
      const access = OPERATIONS[probe.op];
      for (const actor of actors) {
        const target = targets[actor.target];
        const want = expectedFor(access, actor.situation, target, probe.extra, probe.participant);
        let token = actor.token;
        if (probe.freshSession && actor.situation.session) token = await fresh.get(actor.name)!();
        let vars = probe.vars(target);
        if (probe.op === 'Mutation.removeNetworkMember') {
          const owner = (await t.app.services.accounts.findByEmail('owner@matrix.test'))!;
          const { member } = await t.app.services.network.invite(target.clientId, owner.id, {
            name: 'Weg',
            email: `gone-${randomUUID()}@matrix.test`,
            language: 'nl',
            permissions: [],
          });
          vars = { m: member.id };
        }
        const { body } = await t.gql(probe.query, vars, token);
        const field = probe.op.split('.')[1];
        const path = probe.op.startsWith('Dossier.') ? ['client', 'dossier', field] : probe.op.startsWith('Client.') ? ['client', field] : [field];
        const got = outcomeOf(body, path);
        cells++;
        const cell = `${probe.op}${probe.variant ? `@${probe.variant}` : ''} × ${actor.name}`;
        if (want === 'ANY') {
          if (GATE_REASONS.has(got)) wrong.push(`${cell}: a public operation refused by the gate (${got})`);
          continue;
        }
        // An operation that names an object may not tell its existence: NOT_FOUND is a refusal too; the reason is not compared.
        const refusedWant = want !== 'ALLOW';
        const refusedGot = got !== 'ALLOW';
        if (refusedWant && !refusedGot) leaks.push(`${cell}: the table says ${want}, the gateway answered ${JSON.stringify(body).slice(0, 200)}`);
        else if (!refusedWant && refusedGot) wrong.push(`${cell}: the table allows it, the gateway refused (${got}) ${JSON.stringify(body.errors?.[0])}`);
        else if (access.kind !== 'object' && refusedWant && got !== want) wrong.push(`${cell}: refused as ${got}, the table says ${want}`);
      }
    }
    expect(cells).toBeGreaterThan(1500);
    expect(leaks).toEqual([]);
    expect(wrong).toEqual([]);
  });

  it('answers a refused part with null at its path and the rest of the screen with data, in every refused cell of a client part', async () => {
    const wrong: string[] = [];
    for (const actor of actors.filter((a) => a.situation.session && a.situation.relation)) {
      const target = targets[actor.target];
      const portal = expected(actor.situation, target, Action.VIEW_PORTAL);
      if (portal !== 'ALLOW') continue;
      const { body } = await t.gql(
        `query($c: ID!) { client(id: $c) { name dossier { medications { name } } consents { id } accessLog { action } } }`,
        { c: target.clientId },
        actor.token,
      );
      const c = (body as GqlBody).data?.client as Record<string, unknown> | null;
      if (!c || typeof c.name !== 'string') wrong.push(`${actor.name}: no name (${JSON.stringify(body).slice(0, 160)})`);
      for (const [field, action] of [
        ['dossier', Action.VIEW_DOSSIER],
        ['consents', Action.VIEW_CONSENTS],
        ['accessLog', Action.VIEW_ACCESS_LOG],
      ] as const) {
        const refused = expected(actor.situation, target, action) !== 'ALLOW';
        const at = body.errors?.find((e) => e.path?.join('.') === `client.${field}`);
        if (refused && (c?.[field] !== null || at?.extensions?.code !== 'FORBIDDEN'))
          wrong.push(`${actor.name}: ${field} should be null with FORBIDDEN at client.${field}`);
        if (!refused && (c?.[field] === null || at)) wrong.push(`${actor.name}: ${field} should answer`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets subscribers over graphql-ws receive only what the table allows, only of their own client, and stops a revoked right at the next event', async () => {
    const wsUrl = `${t.base.replace(/^http/, 'ws')}/graphql`;
    const sockets: WsClient[] = [];
    const subscribed = actors.map((actor) => {
      if (!actor.token) return { actor, video: null, messages: null };
      const ws = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${actor.token}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
      });
      sockets.push(ws);
      const c = targets[actor.target].clientId;
      return {
        actor,
        video: subscribeTo<{ ready: boolean; joinUrl: string | null }>(
          ws,
          'subscription($c: ID!) { videoCallStatusChanged(clientId: $c) { ready joinUrl } }',
          { c },
          'videoCallStatusChanged',
        ),
        messages: subscribeTo<{ conversation: { id: string } }>(
          ws,
          'subscription($c: ID!) { messageAdded(clientId: $c) { kind conversation { id } } }',
          { c },
          'messageAdded',
        ),
      };
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 800));
      for (const [name, target] of Object.entries(targets)) {
        const res = await postSignedSync(t.base, t.config.syncSecret, {
          id: `matrix-video-${name}-${randomUUID()}`,
          type: 'videocall.ready',
          source: 'demo',
          clientId: target.clientId,
          data: { practitionerId: 'pr-jansen', joinUrl: `https://video.example/${name}` },
        });
        expect(res.status).toBe(202);
        await t.app.services.messages.receiveFromPractitioner({
          clientId: target.clientId,
          eventId: randomUUID(),
          conversationId: target.team.conversationId,
          practitionerId: 'demo:pr-jansen',
          body: `Nieuw bericht voor ${name}`,
          at: new Date(),
        });
      }
      const wrong: string[] = [];
      const verdict = (r: Received<unknown> | null): Outcome => {
        if (!r) return 'UNAUTHENTICATED';
        const reason = r.errors[0]?.extensions && (r.errors[0].extensions as { reason?: string }).reason;
        if (reason && GATE_REASONS.has(reason)) return reason as Reason;
        return r.errors.length ? 'UNAUTHENTICATED' : 'ALLOW';
      };
      for (const { actor, video, messages } of subscribed) {
        const target = targets[actor.target];
        const wantVideo = expected(actor.situation, target, Action.VIEW_VIDEO_CALL);
        const wantMessages = expected(actor.situation, target, Action.READ_MESSAGES);
        if (wantVideo === 'ALLOW') await video!.nth(1, 3000).catch(() => undefined);
        if (expected(actor.situation, target, Action.MESSAGES_TEAM) === 'ALLOW' && wantMessages === 'ALLOW')
          await messages!.nth(1, 3000).catch(() => undefined);
        if (!actor.token) continue;
        if (verdict(video) !== wantVideo && !(wantVideo === 'UNAUTHENTICATED' && video!.events.length === 0))
          wrong.push(`videoCallStatusChanged × ${actor.name}: ${verdict(video)}, the table says ${wantVideo}`);
        if (verdict(messages) !== wantMessages && !(wantMessages === 'UNAUTHENTICATED' && messages!.events.length === 0))
          wrong.push(`messageAdded × ${actor.name}: ${verdict(messages)}, the table says ${wantMessages}`);
        const video1 = video!.events[0];
        if (wantVideo === 'ALLOW' && !video1) wrong.push(`videoCallStatusChanged × ${actor.name}: no event`);
        if (wantVideo !== 'ALLOW' && video!.events.length) wrong.push(`videoCallStatusChanged × ${actor.name}: LEAK, received an event`);
        if (video1 && video1.joinUrl && expected(actor.situation, target, Action.JOIN_VIDEO_CALL) !== 'ALLOW')
          wrong.push(`videoCallStatusChanged × ${actor.name}: LEAK, the join link`);
        if (video1?.joinUrl && !video1.joinUrl.endsWith(`/${actor.target}`)) wrong.push(`videoCallStatusChanged × ${actor.name}: LEAK, another client's room`);
        const readsTeam = wantMessages === 'ALLOW' && expected(actor.situation, target, Action.MESSAGES_TEAM) === 'ALLOW';
        if (readsTeam && !messages!.events.length) wrong.push(`messageAdded × ${actor.name}: no event`);
        if (!readsTeam && messages!.events.length) wrong.push(`messageAdded × ${actor.name}: LEAK, received ${JSON.stringify(messages!.events[0])}`);
        if (messages!.events.some((e) => e.conversation.id !== target.team.conversationId))
          wrong.push(`messageAdded × ${actor.name}: LEAK, another client's conversation`);
      }
      expect(wrong).toEqual([]);

      // A right revoked while the socket is open stops the next event.
      const member = subscribed.find((x) => x.actor.name === 'network member with only AGENDA_VIEW')!;
      expect(member.video!.events).toHaveLength(1);
      const link = (await t.app.services.accounts.portals(member.actor.accountId!)).find((p) => p.clientId === targets.karen.clientId)!;
      expect(link.permissions).toEqual([Permission.AGENDA_VIEW]);
      const linkRow = (await t.app.services.accounts.networkMembers(targets.karen.clientId)).find((m) => m.link.accountId === member.actor.accountId)!;
      await t.app.services.accounts.updateLink(linkRow.link.id, [], false);
      await postSignedSync(t.base, t.config.syncSecret, {
        id: `matrix-video-ended-${randomUUID()}`,
        type: 'videocall.ended',
        source: 'demo',
        clientId: targets.karen.clientId,
        data: {},
      });
      const karenSelf = subscribed.find((x) => x.actor.name === 'adult client (SELF)')!;
      await karenSelf.video!.nth(2, 3000);
      await member.video!.done(3000);
      expect(member.video!.events).toHaveLength(1);
    } finally {
      for (const ws of sockets) await ws.dispose();
    }
  });

  it('streams a document and an attachment through a signed link only while the table allows it, for every actor', async () => {
    const s = t.app.services;
    const karen = actors.find((a) => a.name === 'adult client (SELF)')!;
    const form = new FormData();
    form.append('file', new Blob(['%PDF-1.4\n%matrix\n'], { type: 'application/pdf' }), 'bijlage.pdf');
    const uploaded = (await (await fetch(`${t.base}/files`, { method: 'POST', headers: { authorization: `Bearer ${karen.token}` }, body: form })).json()) as {
      id: string;
    };
    const started = await t.gql(
      'mutation($c: ID!, $a: [ID!]) { startConversation(clientId: $c, subject: "Netwerk", recipientIds: [], body: "Zie bijlage", attachmentIds: $a, kind: PERSONAL_NETWORK) { id } }',
      { c: targets.karen.clientId, a: [uploaded.id] },
      karen.token,
    );
    expect(started.body.errors).toBeUndefined();
    const wrong: string[] = [];
    for (const actor of actors.filter((a) => a.accountId)) {
      const target = targets[actor.target];
      const file = (fileId: string) => fetch(t.local(s.fileUrls.sign(fileId, actor.accountId!)));
      const documentWant = expected({ ...actor.situation, session: true }, target, Action.VIEW_DOSSIER);
      const doc = await file(`doc:${target.clientId}:${target.documentId}`);
      if ((doc.status === 200) !== (documentWant === 'ALLOW'))
        wrong.push(`GET /files (document) × ${actor.name}: ${doc.status}, the table says ${documentWant}`);
      if (
        doc.status === 403 &&
        documentWant !== 'ALLOW' &&
        ((await doc.json()) as { errors: { extensions: { reason?: string } }[] }).errors[0].extensions.reason !== documentWant
      )
        wrong.push(`GET /files (document) × ${actor.name}: another reason than ${documentWant}`);
      if (actor.target !== 'karen') continue;
      const attachmentWant = expectedAll({ ...actor.situation, session: true }, target, [Action.READ_MESSAGES, Action.MESSAGES_PERSONAL_NETWORK]);
      const att = await file(`att:${uploaded.id}`);
      if ((att.status === 200) !== (attachmentWant === 'ALLOW'))
        wrong.push(`GET /files (attachment) × ${actor.name}: ${att.status}, the table says ${attachmentWant}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers every HTTP route as its row says, for every actor', async () => {
    const wrong: string[] = [];
    const mounted = new Set(t.app.routes.map((r) => r.name));
    const probesByRoute: Record<keyof typeof ROUTES, (token?: string, actor?: Actor) => Promise<Response>> = {
      graphql: (token) =>
        fetch(`${t.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query: '{ me { id } }' }),
        }),
      healthz: () => fetch(`${t.base}/healthz`),
      readyz: () => fetch(`${t.base}/readyz`),
      metrics: () => fetch(`${t.base}/metrics`),
      dev_login: () =>
        fetch(`${t.base}/auth/dev/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'nobody@matrix.test' }),
        }),
      session_refresh: () => fetch(`${t.base}/auth/session/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' } }),
      session_logout: (token) =>
        fetch(`${t.base}/auth/session/logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { cookie: `portal_session=${token}` } : {}) },
        }),
      session_code: () =>
        fetch(`${t.base}/auth/session/code`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ challengeId: 'no-such-challenge', code: '123456' }),
        }),
      oidc_login: () => fetch(`${t.base}/auth/oidc/login`, { redirect: 'manual' }),
      oidc_callback: () => fetch(`${t.base}/auth/oidc/callback`, { redirect: 'manual' }),
      files_upload: (token) => {
        const form = new FormData();
        form.append('file', new Blob(['%PDF-1.4\n%route\n']), 'route.pdf');
        return fetch(`${t.base}/files`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: form });
      },
      files: () => fetch(`${t.base}/files/doc:x:demo:y?a=x&e=1&sig=x`),
      sync_events: () => fetch(`${t.base}/sync/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      sync_fhir: () => fetch(`${t.base}/sync/fhir/demo`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{}' }),
      portal_page: () => fetch(`${t.base}/`),
      koppeltaal_jwks: () => fetch(`${t.base}/.well-known/jwks.json`),
      koppeltaal_hook: () => fetch(`${t.base}/koppeltaal/notify`, { method: 'POST', body: '' }),
      dossier_export: (token, actor) =>
        fetch(`${t.base}/export?clientId=${encodeURIComponent(targets[actor!.target].clientId)}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }),
    };
    expect(Object.keys(ROUTES).sort()).toEqual(Object.keys(probesByRoute).sort());
    for (const [name, route] of Object.entries(ROUTES) as [keyof typeof ROUTES, (typeof ROUTES)[keyof typeof ROUTES]][]) {
      for (const actor of actors) {
        const token = name === 'session_logout' && actor.situation.session ? await fresh.get(actor.name)!() : actor.token;
        const res = await probesByRoute[name](token, actor);
        const status = res.status;
        await res.arrayBuffer();
        // Logging out ends the session the cookie named, whoever asks.
        if (name === 'session_logout' && token && (await t.gql('{ me { id } }', undefined, token)).body.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED') {
          wrong.push(`${name} × ${actor.name}: the session still works after logout`);
        }
        const cell = `${name} × ${actor.name}`;
        if (!mounted.has(name)) {
          // Not mounted in this configuration (OIDC needs OIDC_ISSUER; test/oidc.test.ts runs them with a provider).
          if (status !== 404) wrong.push(`${cell}: not mounted here, answered ${status}`);
          continue;
        }
        const access = route.access;
        const session = actor.situation.session && !actor.situation.mustChangePassword;
        const hasPortal = session && Boolean(actor.situation.relation);
        const ok = status < 400 || status === 404;
        switch (access.kind) {
          case 'public':
          case 'operator':
            // The test runs on loopback, which METRICS_ALLOW lets in; test/hostile.test.ts and the ops tests cover the rest.
            if (status >= 500 || status === 403) wrong.push(`${cell}: ${status}`);
            break;
          case 'signature':
            if (status !== 401 && status !== 404) wrong.push(`${cell}: unsigned, answered ${status}`);
            break;
          case 'signed-link':
            if (status !== 403) wrong.push(`${cell}: a forged link answered ${status}`);
            break;
          case 'session':
            if (name === 'files_upload' && ok !== hasPortal) wrong.push(`${cell}: ${status}, expected ${hasPortal ? 'an upload' : 'a refusal'}`);
            if (name === 'graphql' && status !== 200) wrong.push(`${cell}: ${status}`);
            if (name === 'dossier_export') {
              // The export is the dossier: exactly who may see the dossier gets it.
              const want = actor.situation.session ? expectedAll(actor.situation, targets[actor.target], [Action.VIEW_DOSSIER]) : 'UNAUTHENTICATED';
              const expectedStatus = want === 'ALLOW' ? 200 : want === 'UNAUTHENTICATED' ? 401 : 403;
              if (status !== expectedStatus) wrong.push(`${cell}: ${status}, the table says ${want}`);
            }
            break;
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps docs/authorisation.md and the README’s rights table as the tables generate them', () => {
    const root = join(__dirname, '..');
    expect(readFileSync(join(root, 'docs', 'authorisation.md'), 'utf8')).toBe(authorisationMarkdown());
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END) + README_END.length)).toBe(readmeRightsBlock());
  });
});
