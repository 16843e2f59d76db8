import WebSocket from 'ws';

/** The cookie jar of one browser: what Set-Cookie lines leave, by name. */
export class Jar {
  readonly cookies = new Map<string, { value: string; line: string }>();
  take(res: Response): this {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair.split('=');
      if (/Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, { value: decodeURIComponent(value.join('=')), line });
    }
    return this;
  }
  /** The Cookie header a browser sends to this path (the refresh cookie only to /auth/session). */
  header(path: string): string {
    return [...this.cookies]
      .filter(([, c]) => path.startsWith(/Path=([^;]+)/.exec(c.line)![1]))
      .map(([name, c]) => `${name}=${encodeURIComponent(c.value)}`)
      .join('; ');
  }

  /** A fetch as a page on `origin` makes it with `credentials: 'include'`: its Origin, this jar's cookies for the path, and the cookies that come back kept. */
  fetchAs(origin: string): typeof fetch {
    return async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      headers.set('origin', origin);
      const cookie = this.header(url.pathname);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(url, { ...init, method: init?.method ?? (input instanceof Request ? input.method : undefined), headers });
      this.take(res);
      return res;
    };
  }

  /** The WebSocket a page on `origin` opens: the upgrade carries the Origin and this jar's cookies as they are when it connects. */
  socketAs(origin: string): new (url: string, protocols?: string | string[]) => WebSocket {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const jar = this;
    return class BrowserSocket extends WebSocket {
      constructor(url: string | URL | null, protocols?: string | string[]) {
        super(url as string, protocols, { headers: { origin, cookie: jar.header(new URL(String(url)).pathname) } });
      }
    };
  }
}
