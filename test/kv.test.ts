import { Redis } from 'ioredis';
import { MemoryKeyValueStore, readOrFallBack, RedisKeyValueStore, type KeyValueStore } from '../src/kv/kv';
import { ChangeStamp } from '../src/kv/change-stamp';
import { describeWithRedis, REDIS_URL, redisPrefix } from './utils/services';

/** The same behaviour from both stores: what the gateway relies on when Redis is configured or not. */
function membersSuite(make: () => { kv: KeyValueStore; close(): Promise<void> }) {
  let store: ReturnType<typeof make>;
  beforeAll(() => {
    store = make();
  });
  afterAll(async () => store.close());

  it('counts live members, forgets a removed one, and lets a member lapse by itself', async () => {
    const { kv } = store;
    await kv.addMember('presence:test', 'phone', 60);
    await kv.addMember('presence:test', 'laptop', 60);
    await kv.addMember('presence:test', 'phone', 60); // a heartbeat renews, it does not add
    expect(await kv.countMembers('presence:test')).toBe(2);
    await kv.removeMember('presence:test', 'phone');
    expect(await kv.countMembers('presence:test')).toBe(1);
    await kv.addMember('presence:short', 'crashed-instance', 1);
    expect(await kv.countMembers('presence:short')).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await kv.countMembers('presence:short')).toBe(0);
    expect(await kv.countMembers('presence:nobody')).toBe(0);
  });
}

describe('key-value members in process', () => membersSuite(() => ({ kv: new MemoryKeyValueStore(), close: async () => undefined })));

describeWithRedis('key-value members in Redis', () =>
  membersSuite(() => {
    const prefix = redisPrefix();
    const redis = new Redis(REDIS_URL!, { keyPrefix: prefix });
    return { kv: new RedisKeyValueStore(redis, prefix), close: async () => void (await redis.quit()) };
  }),
);

describe('key-value reads while Redis is away', () => {
  it('with a fallback (stamps, the deny-list) fail at once for a moment after one failed, so a change stamp answers null at once; other reads still ask; all resume after', async () => {
    let failing = false;
    let asked = 0;
    const values = new Map<string, string>();
    // Only what the store's reads and a stamp's renewal use of ioredis.
    const redis = {
      get: async (key: string) => {
        asked++;
        if (failing) throw new Error('Command timed out (simulated)');
        return values.get(key) ?? null;
      },
      mget: async (...keys: string[]) => {
        asked++;
        if (failing) throw new Error('Command timed out (simulated)');
        return keys.map((k) => values.get(k) ?? null);
      },
      set: async (key: string, value: string) => void values.set(key, value),
    };
    const kv = new RedisKeyValueStore(redis as unknown as Redis, 'test:');
    const links = new ChangeStamp(kv, 'links');
    await links.renew();
    const first = await links.read();
    expect(first).toEqual(expect.any(String));
    failing = true;
    expect(await links.read()).toBeNull();
    const before = asked;
    // Another read of the same store (a stamp, the deny-list): no second wait.
    expect(await new ChangeStamp(kv, 'writes').read()).toBeNull();
    await expect(readOrFallBack(kv, () => kv.getMany(['a', 'b']))).rejects.toThrow(/not asked again yet/);
    expect(asked).toBe(before);
    // A reader without a fallback (a login's state) still asks the store.
    await expect(kv.get('state')).rejects.toThrow(/timed out/);
    expect(asked).toBe(before + 1);
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await links.read()).toBe(first);
  });
});
