import { Action, OWN_LOGIN_FROM_AGE, CHILD_DECIDES_FROM_AGE, Reason, RULES } from './access';
import { Permission } from './permissions';

/**
 * Who may call each operation of the schema: the gate's action(s) it asks for, or that it needs
 * only a session, or nothing. Every field of Query, Mutation, Subscription, Client and Dossier has
 * a row: the authorisation matrix (test/authorization-matrix.test.ts) fails for a field without
 * one, and docs/authorisation.md is generated from this table and RULES.
 */
export type OperationAccess =
  /** Anyone, logged in or not (the login steps themselves). */
  | { kind: 'public'; note: string }
  /** Any valid session; it concerns the viewer's own account, no client. */
  | { kind: 'session'; note: string }
  /** Names a client by id: the gate is asked for each action in turn. */
  | { kind: 'client'; actions: readonly Action[]; note?: string }
  /** Names an object (a conversation, a document, a member) by id: the gate is asked about the object's client. */
  | { kind: 'object'; actions: readonly Action[]; note: string };

const client = (actions: Action[], note?: string): OperationAccess => ({ kind: 'client', actions, ...(note ? { note } : {}) });
const object = (actions: Action[], note: string): OperationAccess => ({ kind: 'object', actions, note });
const session = (note: string): OperationAccess => ({ kind: 'session', note });
const open = (note: string): OperationAccess => ({ kind: 'public', note });
const KIND = 'then the conversation’s kind (MESSAGES_*)';
const dossierPart = client([Action.VIEW_DOSSIER]);

export const OPERATIONS: Readonly<Record<string, OperationAccess>> = {
  'Query.me': session('the viewer’s own account and the portals it may open'),
  'Query.client': client([Action.VIEW_PORTAL]),

  'Client.id': client([Action.VIEW_PORTAL]),
  'Client.name': client([Action.VIEW_PORTAL], 'logged as a read of the client’s name and birth date'),
  'Client.birthDate': client([Action.VIEW_PORTAL]),
  'Client.dashboard': client([Action.VIEW_PORTAL], 'counts only what the viewer may see (appointments with VIEW_AGENDA, dossier parts with VIEW_DOSSIER)'),
  'Client.appointments': client(
    [Action.VIEW_AGENDA],
    'the organisation’s own appointments only with VIEW_ORGANISATION_AGENDA; a report only with VIEW_DOSSIER',
  ),
  'Client.dossier': client([Action.VIEW_DOSSIER]),
  'Client.conversations': client([Action.READ_MESSAGES], 'only conversations whose kind the viewer may read'),
  'Client.conversationsConnection': client([Action.READ_MESSAGES], 'as Client.conversations, a page at a time'),
  'Client.conversation': client([Action.READ_MESSAGES], 'one conversation by id, if its kind is one the viewer may read (as Conversation.messages)'),
  'Client.questionnaires': client([Action.VIEW_QUESTIONNAIRES]),
  'Client.diary': client([Action.VIEW_JOURNAL]),
  'Client.story': client([Action.VIEW_JOURNAL]),
  'Client.consents': client([Action.VIEW_CONSENTS]),
  'Client.network': client([Action.VIEW_NETWORK]),
  'Client.videoCall': client([Action.VIEW_VIDEO_CALL], 'the join link only with JOIN_VIDEO_CALL'),
  'Client.ehealthModules': client(
    [Action.VIEW_EHEALTH_MODULES],
    'only the Tasks the viewer carries out: the client’s own; a parent’s or representative’s where the Task’s owner is their RelatedPerson; logged',
  ),
  'Client.accessLog': client([Action.VIEW_ACCESS_LOG]),
  'Client.accessLogConnection': client([Action.VIEW_ACCESS_LOG], 'as Client.accessLog, a page at a time'),

  'Dossier.id': dossierPart,
  'Dossier.overview': dossierPart,
  'Dossier.intakeReport': dossierPart,
  'Dossier.medications': dossierPart,
  'Dossier.allergies': dossierPart,
  'Dossier.contraIndications': dossierPart,
  'Dossier.insurance': dossierPart,
  'Dossier.treatmentPlan': dossierPart,
  'Dossier.treatmentTeam': dossierPart,
  'Dossier.treatmentEffort': dossierPart,
  'Dossier.reports': dossierPart,
  'Dossier.documents': dossierPart,

  'Mutation.login': open('step 1 of a password login; rate-limited'),
  'Mutation.verifyLoginCode': open('step 2: the code of a challenge; rate-limited'),
  'Mutation.resendLoginCode': open('a new code for a challenge'),
  'Mutation.refreshSession': open('the refresh token is the credential'),
  'Mutation.requestPasswordReset': open('always answers the same'),
  'Mutation.resetPassword': open('the reset token is the credential'),
  'Mutation.registerWithInvitation': open('the invitation token is the credential'),
  'Mutation.logout': session('ends this session'),
  'Mutation.changePassword': session('also with a password that must be replaced'),
  'Mutation.requestPhoneNumberChange': session('the own account'),
  'Mutation.confirmPhoneNumber': session('the own account'),
  'Mutation.setLoginCodeChannel': session('the own account'),
  'Mutation.updateNotificationSettings': session('the own account'),
  'Mutation.activatePortal': session('the letter’s code and birth date link a portal'),
  'Mutation.acceptInvitation': session('only for the e-mail address the invitation was sent to'),
  'Mutation.setPreferredPortal': client([Action.VIEW_PORTAL]),
  'Mutation.startConversation': client([Action.SEND_MESSAGE], `${KIND}; a network member starts a TEAM conversation with MESSAGES_CARE_ORGANISATION`),
  'Mutation.postMessage': object([Action.SEND_MESSAGE], KIND),
  'Mutation.markConversationRead': object([Action.READ_MESSAGES], `${KIND}; not a change (allowed in a read-only portal)`),
  'Mutation.archiveConversation': object([Action.READ_MESSAGES], `${KIND}; not a change (allowed in a read-only portal)`),
  'Mutation.deleteMessage': object([Action.SEND_MESSAGE], `${KIND}; only the author (FORBIDDEN NOT_AUTHOR otherwise)`),
  'Mutation.saveQuestionnaireAnswers': object(
    [Action.VIEW_DOSSIER, Action.FILL_QUESTIONNAIRES],
    'looked for among the dossiers the viewer may see; a draft until submit, then read-only (CONFLICT)',
  ),
  'Mutation.addTreatmentGoal': client(
    [Action.CHANGE_TREATMENT_GOALS],
    'until the plan is approved (then FORBIDDEN, reason PLAN_APPROVED, a rule of the plan, not of the gate)',
  ),
  'Mutation.removeTreatmentGoal': object(
    [Action.VIEW_DOSSIER, Action.CHANGE_TREATMENT_GOALS],
    'looked for among the plans of the dossiers the viewer may see; only a goal the client’s side added, until the plan is approved',
  ),
  'Mutation.approveTreatmentPlan': object([Action.VIEW_DOSSIER, Action.APPROVE_PLAN], 'looked for only among the clients whose dossier the viewer may see'),
  'Mutation.approveDocument': object([Action.VIEW_DOSSIER, Action.APPROVE_PLAN], 'looked for only among the clients whose dossier the viewer may see'),
  'Mutation.cancelAppointment': object(
    [Action.VIEW_AGENDA, Action.MANAGE_AGENDA],
    'looked for among the agendas the viewer may see; where the EHR allows it (else FORBIDDEN, reason NOT_CANCELLABLE)',
  ),
  'Mutation.addDocument': client([Action.UPLOAD_DOCUMENT], 'an upload of the viewer’s own (POST /files), used once; to the client’s EHR'),
  'Mutation.approveReport': object([Action.VIEW_DOSSIER, Action.APPROVE_PLAN], 'as approveDocument, for a session report that asks for akkoord'),
  'Mutation.setConsent': object([Action.CHANGE_CONSENT], 'the consent names its client'),
  'Mutation.addDiaryEntry': client([Action.WRITE_JOURNAL], 'stored by the portal; logged after it is written'),
  'Mutation.saveClientStory': client(
    [Action.WRITE_JOURNAL],
    'stored by the portal; shared with the organisation (a copy in its EHR) only while shareWithOrganisation is true',
  ),
  'Mutation.inviteNetworkMember': client([Action.MANAGE_NETWORK], 'rights that need DOSSIER_VIEW are refused without it (BAD_USER_INPUT)'),
  'Mutation.setNetworkPermissions': object([Action.MANAGE_NETWORK], 'the member names its client'),
  'Mutation.removeNetworkMember': object([Action.MANAGE_NETWORK], 'the member names its client'),
  'Mutation.launchEhealthModule': object(
    [Action.LAUNCH_EHEALTH_MODULE],
    'the Task names its client (looked for among the viewer’s portals); then only its performer (else FORBIDDEN, reason NOT_TASK_PERFORMER); logged as E',
  ),

  'Subscription.messageAdded': client([Action.READ_MESSAGES], 'every event is authorised again, and per conversation kind'),
  'Subscription.videoCallStatusChanged': client([Action.VIEW_VIDEO_CALL], 'every event is authorised again; the join link only with JOIN_VIDEO_CALL'),
  'Subscription.ehealthModuleChanged': client([Action.VIEW_EHEALTH_MODULES], 'every event is authorised again, and shown only to the Task’s performer'),
};

/** What an HTTP route asks before it answers (server.ts mounts each route with one of these). */
export type RouteAccess =
  | { kind: 'public'; note: string }
  | { kind: 'session'; note: string }
  | { kind: 'signed-link'; actions: readonly Action[]; note: string }
  | { kind: 'signature'; note: string }
  | { kind: 'operator'; note: string };

/**
 * Every HTTP route the gateway can mount (some only when configured), with what it asks. `browser`:
 * the methods a portal frontend on another origin calls it with; such a route answers CORS (and
 * its preflight) for the allowed frontends only, with credentials (src/http/origins.ts).
 */
export const ROUTES = {
  graphql: {
    path: '/graphql',
    browser: 'GET, POST',
    access: { kind: 'session', note: 'each operation asks the gate (Operations above); CSRF prevention; a cookie session from the frontends only' },
  },
  healthz: { path: '/healthz', access: { kind: 'public', note: 'the process is up' } },
  readyz: { path: '/readyz', access: { kind: 'public', note: 'this instance can serve; dependencies in the body' } },
  metrics: { path: '/metrics', access: { kind: 'operator', note: 'peer addresses in METRICS_ALLOW' } },
  dev_login: { path: '/auth/dev/login', browser: 'POST', access: { kind: 'public', note: 'development only (not mounted in production)' } },
  session_refresh: { path: '/auth/session/refresh', browser: 'POST', access: { kind: 'public', note: 'the refresh cookie is the credential' } },
  session_logout: {
    path: '/auth/session/logout',
    browser: 'POST',
    access: { kind: 'public', note: 'ends the session its cookies name, if any, and clears the cookies whatever their state' },
  },
  session_code: {
    path: '/auth/session/code',
    browser: 'POST',
    access: { kind: 'public', note: 'the login challenge and its code are the credential (as verifyLoginCode); answers with cookies' },
  },
  oidc_login: { path: '/auth/oidc/login', access: { kind: 'public', note: 'starts a DigiD login (mounted with OIDC_ISSUER)' } },
  oidc_callback: { path: '/auth/oidc/callback', access: { kind: 'public', note: 'state, nonce, PKCE and the ID token are the credential' } },
  files_upload: {
    path: '/files',
    browser: 'POST',
    access: { kind: 'session', note: 'an account with at least one portal; by cookie also x-requested-with' },
  },
  files: {
    path: '/files/',
    prefix: true,
    browser: 'GET',
    access: {
      kind: 'signed-link',
      actions: [Action.VIEW_DOSSIER, Action.READ_MESSAGES],
      note: 'a document: VIEW_DOSSIER; an attachment: READ_MESSAGES and the conversation’s kind; asked again at download',
    },
  },
  sync_events: { path: '/sync/events', access: { kind: 'signature', note: 'HMAC over timestamp and body (SYNC_SECRET)' } },
  sync_fhir: { path: '/sync/fhir/', prefix: true, access: { kind: 'signature', note: 'the rest-hook’s header secret (FHIR_SUBSCRIPTION_SECRET)' } },
  dossier_export: {
    path: '/export',
    browser: 'GET',
    access: {
      kind: 'session',
      note: 'VIEW_DOSSIER of ?clientId (a network member needs DOSSIER_VIEW); each further part as the viewer may see it; logged as an export (E)',
    },
  },
  koppeltaal_jwks: {
    path: '/.well-known/jwks.json',
    access: { kind: 'public', note: 'the public key of the HTI launch tokens and Koppeltaal client assertions; mounted with a Koppeltaal domain' },
  },
  koppeltaal_hook: {
    path: '/koppeltaal/notify',
    access: { kind: 'signature', note: 'the Koppeltaal rest-hook’s header secret (KOPPELTAAL_SUBSCRIPTION_SECRET); mounted with it' },
  },
  portal_page: {
    path: '/',
    prefix: true,
    access: { kind: 'public', note: 'development only (as the dev login): the reference portal page, examples/portal-web; static files, no data' },
  },
} as const satisfies Record<string, { path: string; prefix?: boolean; browser?: string; access: RouteAccess }>;
export type RouteName = keyof typeof ROUTES;

const RELATIONS = ['client (SELF)', 'parent with authority', 'representative', 'network member', 'care-page admin'] as const;

/**
 * The rights table and the portal rules (the README shows them), and the list of every operation
 * and route (docs/authorisation.md adds it), from the tables the gate and the matrix use.
 */
export function authorisationDoc(): { rights: string; operations: string } {
  const routes = Object.entries(ROUTES).map(([name, r]) => ({ name, path: r.path, access: r.access, browser: 'browser' in r ? r.browser : undefined }));
  const cell = (action: Action, relation: (typeof RELATIONS)[number]): string => {
    const rule = RULES[action];
    if (rule.clientOnly) return relation === 'client (SELF)' ? 'yes' : '–';
    if (relation === 'network member') return rule.members.length ? rule.members.map((set) => (set.length ? set.join(' + ') : 'yes')).join(' or ') : '–';
    if (relation === 'care-page admin') return rule.admins ? 'yes' : 'as a network member';
    return 'yes';
  };
  const rights = [
    'Every entry point asks one gate (`src/auth/access.ts`) for a named action. A refusal is `FORBIDDEN` with an `extensions.reason`; a missing or ended session is `UNAUTHENTICATED`.',
    '',
    `| action | what | ${RELATIONS.join(' | ')} |`,
    `| --- | --- | ${RELATIONS.map(() => '---').join(' | ')} |`,
    ...Object.values(Action).map(
      (a) =>
        `| \`${a}\` | ${RULES[a].title}${RULES[a].writes ? ' (a change)' : ''}${RULES[a].membersAsParticipant ? '; a network member only where they take part' : ''} | ${RELATIONS.map((r) => cell(a, r)).join(' | ')} |`,
    ),
    '',
    `A network member's cell names the permissions they need (${Object.values(Permission).length} exist); a care-page admin may in addition what says "yes" there.`,
    '',
    'Then the portal rules, in this order (the first that applies is the reason):',
    '',
    `1. \`${Reason.PASSWORD_CHANGE_REQUIRED}\`: a password set for the account must be replaced first (no client data until then).`,
    `2. \`${Reason.NO_RELATION}\`: the account has no link to this client.`,
    `3. \`${Reason.NO_PERMISSION}\` (with \`extensions.action\`) or \`${Reason.CLIENT_ONLY}\`: the link lacks the right (table above).`,
    `4. \`${Reason.OWN_LOGIN_FROM_12}\`: the client in person is under ${OWN_LOGIN_FROM_AGE}; the parents with authority act for them (a DigiD login under ${OWN_LOGIN_FROM_AGE} links no own portal).`,
    `5. \`${Reason.TREATMENT_ENDED}\` / \`${Reason.PORTAL_READ_ONLY}\`: after the last episode closed (and TREATMENT_END_GRACE_DAYS), the portal is read-only for TREATMENT_END_READ_ONLY_DAYS (changes refused), then closed.`,
    `6. \`${Reason.CHILD_DECIDES}\`: from ${CHILD_DECIDES_FROM_AGE} the child decides whether a parent still sees the portal (the consent PARENT_ACCESS).`,
  ];
  const operations = [
    '## Operations',
    '',
    '| operation | asks | note |',
    '| --- | --- | --- |',
    ...Object.entries(OPERATIONS).map(
      ([name, access]) => `| \`${name}\` | ${describeAccess(access)} | ${'note' in access && access.note ? access.note : ''} |`,
    ),
    '',
    '## HTTP routes',
    '',
    'CORS: the methods the portal frontends (CORS_ORIGINS, FRONTEND_URL, the gateway itself) may call a route with from their own origin, with credentials; other origins get no CORS answer.',
    '',
    '| route | path | asks | CORS | note |',
    '| --- | --- | --- | --- | --- |',
    ...routes.map((r) => `| ${r.name} | \`${r.path}\` | ${describeRoute(r.access)} | ${r.browser ?? '–'} | ${r.access.note} |`),
  ];
  return { rights: rights.join('\n'), operations: operations.join('\n') };
}

export const DOC_HEADER =
  '<!-- Generated from src/auth/access.ts and src/auth/operations.ts by `npm run docs:access`; the authorisation matrix test fails when it is stale. -->';

/** docs/authorisation.md as it must read. */
export function authorisationMarkdown(): string {
  const { rights, operations } = authorisationDoc();
  return [DOC_HEADER, '# Who may do what', '', '## Rights by relation', '', rights, '', operations, ''].join('\n');
}

/** The README's block between its rights markers, as it must read. */
export function readmeRightsBlock(): string {
  return [
    README_BEGIN,
    DOC_HEADER,
    authorisationDoc().rights,
    '',
    'Every operation and HTTP route with what it asks: `docs/authorisation.md`.',
    README_END,
  ].join('\n');
}
export const README_BEGIN = '<!-- rights:begin -->';
export const README_END = '<!-- rights:end -->';

function describeAccess(access: OperationAccess): string {
  switch (access.kind) {
    case 'public':
      return 'nothing (public)';
    case 'session':
      return 'a session';
    case 'client':
      return access.actions.map((a) => `\`${a}\``).join(', then ');
    case 'object':
      return `${access.actions.map((a) => `\`${a}\``).join(', then ')} on the object’s client`;
  }
}

function describeRoute(access: RouteAccess): string {
  switch (access.kind) {
    case 'signed-link':
      return `a signed link, then ${access.actions.map((a) => `\`${a}\``).join(', ')} for its account`;
    case 'signature':
      return 'the sender’s signature';
    case 'operator':
      return 'the operator (an allow-list)';
    case 'session':
      return 'a session';
    case 'public':
      return 'nothing (public)';
  }
}
