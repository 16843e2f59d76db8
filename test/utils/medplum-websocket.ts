import { WebSocket } from 'ws';

// @medplum/core reads globalThis.WebSocket when it loads; Node 20 has none, so this module must be
// imported before anything from @medplum.
const g = globalThis as { WebSocket?: unknown };
g.WebSocket ??= WebSocket;
