// The reference portal page: what a portal frontend does in browser mode, with the public API only.
// The session lives in httpOnly cookies the login routes set (DigiD, e-mail plus code, or the
// development login); every call sends them (`credentials: 'include'`), an expired access cookie is
// renewed once through POST /auth/session/refresh, and the live socket is authenticated by the
// same cookie on its upgrade (no token in connection_init). No build step: JavaScript modules and
// graphql-ws's browser bundle (window.graphqlWs). Texts are Dutch, as the portals' own.

const configured = document.querySelector('meta[name="portal-api"]')?.content ?? '';
/** The gateway: the page's own origin, or the one the serving gateway wrote into the page. */
const API = (configured && configured !== '__PORTAL_API__' ? configured : location.origin).replace(/\/+$/, '');
const SOCKET_URL = `${API.replace(/^http/, 'ws')}/graphql`;

const $ = (id) => document.getElementById(id);

/** An element with text children only (never HTML from the API: messages are what people typed). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

const dateTime = new Intl.DateTimeFormat('nl-NL', { dateStyle: 'full', timeStyle: 'short', timeZone: 'Europe/Amsterdam' });
const dateOnly = new Intl.DateTimeFormat('nl-NL', { dateStyle: 'long', timeZone: 'Europe/Amsterdam' });
const when = (iso) => (iso ? dateTime.format(new Date(iso)) : '');
const day = (iso) => (iso ? dateOnly.format(new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso)) : '');

function status(text) {
  $('status').textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Calls: GraphQL over POST, the session routes, and the refresh once an access cookie has lapsed.

class SessionEnded extends Error {}

let refreshing = null;
/** One refresh at a time, whoever noticed first (a page can have several calls in flight). */
function refreshSession() {
  refreshing ??= fetch(`${API}/auth/session/refresh`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' } })
    .then((res) => res.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function graphql(query, variables = {}, retried = false) {
  const res = await fetch(`${API}/graphql`, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: withFragments(query), variables }),
  });
  const body = await res.json();
  if (body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    if (!retried && (await refreshSession())) return graphql(query, variables, true);
    throw new SessionEnded();
  }
  return body;
}

async function sessionRoute(path, body) {
  return fetch(`${API}${path}`, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** What to say for a part of the answer that was refused or failed on its own (the rest still shows). */
function partProblem(body, ...path) {
  const error = body.errors?.find((e) => path.every((segment, i) => e.path?.[i] === segment));
  if (!error) return null;
  const code = error.extensions?.code;
  if (code === 'FORBIDDEN') return 'U heeft geen toegang tot dit onderdeel.';
  if (code === 'UPSTREAM_UNAVAILABLE') return 'Dit onderdeel is op dit moment niet beschikbaar. Probeer het later opnieuw.';
  return 'Dit onderdeel kon niet worden geladen.';
}

// ---------------------------------------------------------------------------------------------
// Queries: the ids let a normalised cache (Apollo Client's InMemoryCache) key every object.

const ME = /* GraphQL */ `
  query Me {
    me {
      id
      displayName
      portals {
        relation
        permissions
        client {
          id
          name
        }
      }
      preferredPortal {
        client {
          id
        }
      }
    }
  }
`;

const APPOINTMENT = /* GraphQL */ `
  fragment AppointmentFields on Appointment {
    id
    start
    end
    type
    location
    online
    practitioner {
      id
      name
    }
  }
`;
const MESSAGE = /* GraphQL */ `
  fragment MessageFields on Message {
    id
    conversationId
    body
    sentAt
    deletedAt
    author {
      id
      name
      kind
    }
    attachments {
      id
      name
      downloadUrl
    }
  }
`;
const CONVERSATION = /* GraphQL */ `
  fragment ConversationFields on Conversation {
    id
    subject
    kind
    notice
    unreadCount
    lastMessageAt
  }
`;
const VIDEO = /* GraphQL */ `
  fragment VideoFields on VideoCallStatus {
    id
    ready
    joinUrl
    readySince
    practitioner {
      id
      name
    }
  }
`;
const FRAGMENTS = { AppointmentFields: APPOINTMENT, MessageFields: MESSAGE, ConversationFields: CONVERSATION, VideoFields: VIDEO };

/** The document as sent: the operation and the fragments it spreads (graphql-codegen reads each literal on its own). */
const withFragments = (operation) =>
  [
    operation,
    ...Object.entries(FRAGMENTS)
      .filter(([name]) => operation.includes(`...${name}`))
      .map(([, fragment]) => fragment),
  ].join('\n');

const CLIENT = /* GraphQL */ `
  query Portaal($id: ID!) {
    client(id: $id) {
      id
      name
      dashboard {
        id
        activity {
          since
          newMessages
          newDocuments
          newReports
          newDiaryEntries
          appointmentsHeld
        }
        nextAppointment {
          ...AppointmentFields
        }
        upcomingAppointmentCount
        dossierPartCount
      }
      upcoming: appointments(when: UPCOMING) {
        ...AppointmentFields
      }
      past: appointments(when: PAST) {
        ...AppointmentFields
      }
      videoCall {
        ...VideoFields
      }
      dossier {
        id
        overview {
          dossierNumber
          diagnosis
          careDemandType
          registrationDate
        }
        treatmentTeam {
          role
          active
          practitioner {
            id
            name
            profession
          }
        }
        treatmentPlan {
          id
          status
          careQuestion
          goals {
            id
            description
          }
        }
        medications {
          id
          name
          dosage
          since
        }
        allergies {
          id
          substance
          reaction
        }
        documents {
          id
          name
          uploadedAt
          downloadUrl
        }
      }
      conversationsConnection(first: 20) {
        edges {
          node {
            ...ConversationFields
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;

const CONVERSATION_QUERY = /* GraphQL */ `
  query Gesprek($client: ID!, $id: ID!) {
    client(id: $client) {
      id
      conversation(id: $id) {
        ...ConversationFields
        messagesConnection(last: 20) {
          edges {
            node {
              ...MessageFields
            }
          }
          pageInfo {
            hasPreviousPage
            startCursor
          }
        }
      }
    }
  }
`;

const POST_MESSAGE = /* GraphQL */ `
  mutation Reply($conversationId: ID!, $body: String!) {
    postMessage(conversationId: $conversationId, body: $body) {
      ...MessageFields
    }
  }
`;
const MARK_READ = /* GraphQL */ `
  mutation Read($id: ID!) {
    markConversationRead(conversationId: $id) {
      id
      unreadCount
    }
  }
`;
const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      challengeId
      maskedDestination
    }
  }
`;
const MESSAGE_ADDED = /* GraphQL */ `
  subscription Messages($id: ID!) {
    messageAdded(clientId: $id) {
      kind
      message {
        ...MessageFields
      }
      conversation {
        ...ConversationFields
      }
    }
  }
`;
const VIDEO_CHANGED = /* GraphQL */ `
  subscription Video($id: ID!) {
    videoCallStatusChanged(clientId: $id) {
      ...VideoFields
    }
  }
`;

// ---------------------------------------------------------------------------------------------
// State of the page.

const state = {
  me: null,
  clientId: null,
  /** Conversations by id, each with its messages by id. */
  conversations: new Map(),
  openConversation: null,
  live: null,
};

function showLogin(message) {
  stopLive();
  state.me = null;
  $('portal').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('own-code').hidden = true;
  $('own-login').hidden = false;
  status(message ?? '');
}

async function start() {
  try {
    const body = await graphql(ME);
    state.me = body.data.me;
  } catch (err) {
    if (err instanceof SessionEnded) return showLogin();
    // fetch rejects when the gateway cannot be reached, or does not let this page read its answer (CORS).
    $('login').hidden = true;
    return status('De portaalserver is niet bereikbaar. Probeer het later opnieuw.');
  }
  $('login').hidden = true;
  $('who').hidden = false;
  $('display-name').textContent = state.me.displayName;
  const portals = state.me.portals;
  if (!portals.length) {
    $('portal').hidden = true;
    status('Er is nog geen portaal aan uw account gekoppeld. Activeer uw portaal met de code uit de brief van uw zorgaanbieder.');
    return;
  }
  const select = $('portal-select');
  select.replaceChildren(...portals.map((p) => el('option', { value: p.client.id }, p.client.name)));
  $('portal-choice').hidden = portals.length < 2;
  await openPortal(state.me.preferredPortal?.client.id ?? portals[0].client.id);
}

async function openPortal(clientId) {
  if (state.clientId !== clientId) state.openConversation = null;
  state.clientId = clientId;
  $('portal-select').value = clientId;
  let body;
  try {
    body = await graphql(CLIENT, { id: clientId });
  } catch (err) {
    if (err instanceof SessionEnded) return showLogin('Uw sessie is verlopen. Log opnieuw in.');
    throw err;
  }
  const client = body.data?.client;
  if (!client) {
    $('portal').hidden = true;
    status(partProblem(body, 'client') ?? 'Dit portaal kon niet worden geopend.');
    return;
  }
  $('portal').hidden = false;
  status('');
  renderDashboard(client.dashboard, partProblem(body, 'client', 'dashboard'));
  renderAppointments(client.upcoming, client.past, body);
  renderVideo(client.videoCall);
  renderDossier(client.dossier, body);
  loadConversations(client.conversationsConnection, partProblem(body, 'client', 'conversationsConnection'));
  startLive(clientId);
}

// ---------------------------------------------------------------------------------------------
// The parts of the portal.

function renderDashboard(dashboard, problem) {
  const list = $('activity');
  if (!dashboard) {
    list.replaceChildren(el('li', {}, problem ?? 'Geen overzicht beschikbaar.'));
    $('next-appointment').textContent = '';
    return;
  }
  const a = dashboard.activity;
  list.replaceChildren(
    el('li', { dataset: { count: 'messages' } }, `${a.newMessages} nieuwe berichten`),
    el('li', { dataset: { count: 'documents' } }, `${a.newDocuments} nieuwe documenten`),
    el('li', { dataset: { count: 'reports' } }, `${a.newReports} nieuwe verslagen`),
    el('li', { dataset: { count: 'diary' } }, `${a.newDiaryEntries} nieuwe dagboekberichten`),
    el('li', { dataset: { count: 'appointments' } }, `${a.appointmentsHeld} afspraken gehad`),
  );
  if (a.since) list.prepend(el('li', { class: 'since' }, `Sinds ${when(a.since)}:`));
  const next = dashboard.nextAppointment;
  $('next-appointment').textContent = next
    ? `Uw volgende afspraak: ${when(next.start)}, ${next.type} met ${next.practitioner.name}.`
    : 'U heeft geen komende afspraken.';
}

function appointmentItem(a) {
  return el('li', {}, el('strong', {}, when(a.start)), ` ${a.type} met ${a.practitioner.name}`, a.online ? ' (online)' : a.location ? `, ${a.location}` : '');
}

function renderAppointments(upcoming, past, body) {
  const fill = (list, items, problem, empty) =>
    list.replaceChildren(...(items ? (items.length ? items.map(appointmentItem) : [el('li', {}, empty)]) : [el('li', {}, problem ?? empty)]));
  fill($('upcoming'), upcoming, partProblem(body, 'client', 'upcoming'), 'Geen komende afspraken.');
  // The newest first, at most ten.
  fill(
    $('past'),
    past && [...past].sort((a, b) => b.start.localeCompare(a.start)).slice(0, 10),
    partProblem(body, 'client', 'past'),
    'Geen eerdere afspraken.',
  );
}

function renderVideo(call) {
  const ready = Boolean(call?.ready && call.joinUrl);
  $('video').hidden = !ready;
  const join = $('video-join');
  if (!ready) {
    join.removeAttribute('href');
    return;
  }
  join.href = call.joinUrl;
  $('video-text').textContent =
    `${call.practitioner?.name ?? 'Uw behandelaar'} staat klaar voor het beeldbellen${call.readySince ? ` (sinds ${when(call.readySince)})` : ''}.`;
}

const ROLES = { LEAD: 'regiebehandelaar', DEPUTY_LEAD: 'waarnemend regiebehandelaar', CO_PRACTITIONER: 'medebehandelaar' };

function renderDossier(dossier, body) {
  const parts = $('dossier-parts');
  if (!dossier) {
    parts.replaceChildren(el('p', {}, partProblem(body, 'client', 'dossier') ?? 'Geen dossier beschikbaar.'));
    return;
  }
  const part = (key, title, render) => {
    const value = dossier[key];
    const problem = partProblem(body, 'client', 'dossier', key);
    const content = value === null || value === undefined ? el('p', {}, problem ?? 'Niets vastgelegd.') : render(value);
    return el('section', { class: 'part', dataset: { part: key } }, el('h3', {}, title), content);
  };
  const list = (items, render) =>
    items.length
      ? el(
          'ul',
          {},
          items.map((i) => el('li', {}, render(i))),
        )
      : el('p', {}, 'Niets vastgelegd.');
  parts.replaceChildren(
    part('overview', 'Overzicht', (o) =>
      el(
        'dl',
        {},
        el('dt', {}, 'Dossiernummer'),
        el('dd', {}, o.dossierNumber),
        el('dt', {}, 'Diagnose'),
        el('dd', {}, o.diagnosis ?? '–'),
        el('dt', {}, 'Zorgvraagtypering'),
        el('dd', {}, o.careDemandType ?? '–'),
        el('dt', {}, 'Aangemeld op'),
        el('dd', {}, day(o.registrationDate) || '–'),
      ),
    ),
    part('treatmentTeam', 'Behandelteam', (team) =>
      list(
        team,
        (m) =>
          `${m.practitioner.name}, ${ROLES[m.role] ?? m.role}${m.practitioner.profession ? ` (${m.practitioner.profession})` : ''}${m.active ? '' : ' – niet meer actief'}`,
      ),
    ),
    part('treatmentPlan', 'Behandelplan', (plan) =>
      el(
        'div',
        {},
        el('p', {}, plan.careQuestion ?? ''),
        list(plan.goals, (g) => g.description),
      ),
    ),
    part('medications', 'Medicatie', (meds) => list(meds, (m) => `${m.name}${m.dosage ? `, ${m.dosage}` : ''}${m.since ? ` (sinds ${day(m.since)})` : ''}`)),
    part('allergies', 'Allergieën', (items) => list(items, (a) => `${a.substance}${a.reaction ? `: ${a.reaction}` : ''}`)),
    part('documents', 'Documenten', (docs) =>
      list(docs, (d) => el('span', {}, el('a', { href: d.downloadUrl, target: '_blank', rel: 'noopener' }, d.name), ` (${day(d.uploadedAt)})`)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Messages, with the live push.

function loadConversations(connection, problem) {
  state.conversations.clear();
  if (!connection) {
    $('conversations').replaceChildren(el('li', {}, problem ?? 'Geen berichten.'));
    $('conversation').hidden = true;
    return;
  }
  for (const { node } of connection.edges) state.conversations.set(node.id, { ...node, messages: new Map() });
  renderConversations();
  $('conversation').hidden = true;
  if (state.openConversation && state.conversations.has(state.openConversation)) void openConversation(state.openConversation);
}

function renderConversations() {
  const items = [...state.conversations.values()].sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt));
  $('conversations').replaceChildren(
    ...(items.length
      ? items.map((c) =>
          el(
            'li',
            { dataset: { conversation: c.id } },
            el('button', { type: 'button', class: c.unreadCount ? 'unread' : undefined }, c.subject, c.unreadCount ? ` (${c.unreadCount} ongelezen)` : ''),
          ),
        )
      : [el('li', {}, 'U heeft nog geen berichten.')]),
  );
}

function renderConversation() {
  const c = state.conversations.get(state.openConversation);
  $('conversation').hidden = false;
  $('conversation-subject').textContent = c.subject;
  $('conversation-notice').textContent = c.notice;
  const messages = [...c.messages.values()].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  $('conversation-messages').replaceChildren(
    ...messages.map((m) =>
      el(
        'li',
        { dataset: { message: m.id }, class: m.author.kind === 'PRACTITIONER' ? 'from-practitioner' : undefined },
        el('p', { class: 'meta' }, `${m.author.name}, ${when(m.sentAt)}`),
        el('p', { class: 'body' }, m.deletedAt ? 'Dit bericht is verwijderd.' : m.body),
        m.attachments.length
          ? el(
              'ul',
              {},
              m.attachments.map((a) => el('li', {}, el('a', { href: a.downloadUrl, target: '_blank', rel: 'noopener' }, a.name))),
            )
          : null,
      ),
    ),
  );
}

async function openConversation(id) {
  state.openConversation = id;
  const body = await graphql(CONVERSATION_QUERY, { client: state.clientId, id });
  const loaded = body.data?.client?.conversation;
  if (!loaded) return status(partProblem(body, 'client', 'conversation') ?? 'Dit gesprek kon niet worden geopend.');
  const c = state.conversations.get(id) ?? { messages: new Map() };
  Object.assign(c, loaded, { messages: new Map([...c.messages, ...loaded.messagesConnection.edges.map((e) => [e.node.id, e.node])]) });
  state.conversations.set(id, c);
  renderConversation();
  if (c.unreadCount) {
    const body = await graphql(MARK_READ, { id }).catch(() => null);
    if (body?.data?.markConversationRead) {
      c.unreadCount = body.data.markConversationRead.unreadCount;
      renderConversations();
    }
  }
}

function messageArrived(event) {
  const known = state.conversations.get(event.conversation.id);
  const conversation = known ?? { ...event.conversation, messages: new Map() };
  Object.assign(conversation, event.conversation);
  // ADDED and DELETED alike: the message as it now is (a deleted one without its body).
  conversation.messages.set(event.message.id, event.message);
  state.conversations.set(conversation.id, conversation);
  renderConversations();
  if (state.openConversation === conversation.id) renderConversation();
  if (event.kind === 'ADDED' && event.message.author.kind === 'PRACTITIONER') status(`Nieuw bericht van ${event.message.author.name}: ${conversation.subject}`);
}

/**
 * The socket: graphql-ws over the session cookie. graphql-ws ends a subscription on 4401
 * (the session is gone); a session that can be refreshed gets a new socket, else the login.
 */
function startLive(clientId) {
  stopLive();
  const client = window.graphqlWs.createClient({
    url: SOCKET_URL,
    retryAttempts: 5,
    lazy: true,
    // The page's state for whoever watches it (the browser tests wait for it before a push).
    on: {
      connected: () => (document.body.dataset.live = 'connected'),
      closed: () => (document.body.dataset.live = 'closed'),
    },
  });
  const subscriptions = [];
  const subscribe = (query, field, onEvent) =>
    subscriptions.push(
      client.subscribe(
        { query: withFragments(query), variables: { id: clientId } },
        {
          next: (msg) => msg.data?.[field] && onEvent(msg.data[field]),
          error: async (err) => {
            if (state.live?.client !== client) return;
            if (err?.code === 4401 && (await refreshSession())) startLive(clientId);
            else if (err?.code === 4401) showLogin('Uw sessie is verlopen. Log opnieuw in.');
            else status('De live verbinding is verbroken; vernieuw de pagina om berichten direct te zien.');
          },
          complete: () => undefined,
        },
      ),
    );
  subscribe(MESSAGE_ADDED, 'messageAdded', messageArrived);
  subscribe(VIDEO_CHANGED, 'videoCallStatusChanged', renderVideo);
  state.live = { client, subscriptions };
}

function stopLive() {
  if (!state.live) return;
  const { client, subscriptions } = state.live;
  state.live = null;
  for (const stop of subscriptions) stop();
  void client.dispose();
}

// ---------------------------------------------------------------------------------------------
// Logging in and out.

function afterLogin(res, fallback) {
  if (res.ok) return start();
  return res
    .json()
    .catch(() => ({}))
    .then((body) => status(body.errors?.[0]?.message ?? fallback));
}

$('digid').addEventListener('click', () => {
  location.assign(`${API}/auth/oidc/login?returnTo=${encodeURIComponent(location.origin + location.pathname)}`);
});

$('dev-login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = new FormData(event.target).get('email');
  const res = await sessionRoute('/auth/dev/login', { email, cookie: true });
  if (res.status === 404) return status('De ontwikkel-login is hier niet beschikbaar.');
  return afterLogin(res, 'Inloggen is niet gelukt.');
});

let challenge = null;
$('own-login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = await graphql(LOGIN, { email: form.get('email'), password: form.get('password') }).catch(() => null);
  challenge = body?.data?.login ?? null;
  if (!challenge) return status(body?.errors?.[0]?.message ?? 'Inloggen is niet gelukt.');
  $('own-login').hidden = true;
  $('own-code').hidden = false;
  $('code-sent').textContent = `We hebben een code gestuurd naar ${challenge.maskedDestination}.`;
  return status('');
});

$('own-code').addEventListener('submit', async (event) => {
  event.preventDefault();
  const res = await sessionRoute('/auth/session/code', { challengeId: challenge?.challengeId, code: new FormData(event.target).get('code') });
  if (res.ok && (await res.clone().json()).mustChangePassword) status('Kies eerst een nieuw wachtwoord in de app; daarna ziet u uw portaal.');
  return afterLogin(res, 'De code klopt niet.');
});

$('logout').addEventListener('click', async () => {
  stopLive();
  await sessionRoute('/auth/session/logout').catch(() => null);
  showLogin('U bent uitgelogd.');
});

$('portal-select').addEventListener('change', (event) => void openPortal(event.target.value));

$('conversations').addEventListener('click', (event) => {
  const item = event.target.closest('[data-conversation]');
  if (item) void openConversation(item.dataset.conversation);
});

$('reply').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const text = new FormData(form).get('body').trim();
  if (!text || !state.openConversation) return;
  const body = await graphql(POST_MESSAGE, { conversationId: state.openConversation, body: text });
  const message = body.data?.postMessage;
  if (!message) return status(body.errors?.[0]?.message ?? 'Uw bericht is niet verstuurd.');
  state.conversations.get(state.openConversation).messages.set(message.id, message);
  renderConversation();
  form.reset();
  return status('Uw bericht is verstuurd.');
});

void start();
