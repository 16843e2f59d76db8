import WebSocket from 'ws';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { portalIds, startTestApp } from './utils/app';

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, closes WebSockets with 1001, and refuses new connections', async () => {
    const demo = new DemoEhrAdapter({ delayMs: 300 });
    const t = await startTestApp({ adapters: { demo } });
    const adapterCalls = () => [...demo.calls.values()].reduce((a, b) => a + b, 0);
    const token = await t.login('client@demo.test');
    const [id] = await portalIds(t, token);
    const ws = new WebSocket(`${t.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => ws.on('message', resolve));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));

    const before = adapterCalls();
    const inFlight = t.gql('query($id: ID!) { client(id: $id) { appointments { id } } }', { id }, token);
    // Stop only once the request is being served (it has reached the EHR), not merely sent: on a busy machine 50 ms may not suffice.
    while (adapterCalls() === before) await new Promise((r) => setTimeout(r, 5));
    const stopping = t.stop();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.data.client.appointments.length).toBeGreaterThan(0);
    expect(await closed).toBe(1001);
    await stopping;
    await expect(fetch(`${t.base}/healthz`)).rejects.toThrow();
  });
});
