import { Redis } from 'ioredis';
import { MemoryKeyValueStore, RedisKeyValueStore, type KeyValueStore } from '../src/kv/kv';
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

describe('change stamps while the store is away', () => {
  it('answers null (nothing kept may be trusted) and, for a moment after a failure, does not wait for the store again', async () => {
    const kv = new MemoryKeyValueStore();
    let failing = false;
    let asked = 0;
    const get = kv.get.bind(kv);
    kv.get = async (key: string) => {
      asked++;
      if (failing) throw new Error('Redis command timed out (simulated)');
      return get(key);
    };
    const links = new ChangeStamp(kv, 'links');
    const writes = new ChangeStamp(kv, 'writes');
    const first = await links.read();
    expect(first).toEqual(expect.any(String));
    expect(await links.read()).toBe(first);
    failing = true;
    expect(await links.read()).toBeNull();
    const before = asked;
    // Another stamp of the same store: no second wait.
    expect(await writes.read()).toBeNull();
    expect(asked).toBe(before);
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await links.read()).toBe(first);
  });
});
