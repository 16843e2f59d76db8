import { Writable } from 'node:stream';
import { createLogger } from './logger';

describe('logs', () => {
  it('never carry tokens, BSNs, passwords or message bodies', () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    log.info(
      {
        req: { headers: { authorization: 'Bearer eyJsecret', cookie: 'portal_session=abc' } },
        login: { bsn: '999990019', password: 'Geheim!2026xx' },
        message: { body: 'Ik voel me slecht' },
        requestId: 'r-1',
      },
      'test',
    );
    const text = lines.join('');
    for (const secret of ['eyJsecret', 'portal_session=abc', '999990019', 'Geheim!2026xx', 'Ik voel me slecht']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ requestId: 'r-1', msg: 'test', level: 'info' });
  });
});
