import { EventEmitter } from 'node:events';
import { listen } from './event-bus';

describe('listen (the channel iterator under both event buses)', () => {
  it('hands over events in order, also those that arrived before next() was called', async () => {
    const emitter = new EventEmitter();
    const events = listen(emitter, 'video:a');
    const first = events.next();
    emitter.emit('video:a', 1);
    emitter.emit('video:a', 2);
    emitter.emit('video:b', 'other channel');
    expect(await first).toEqual({ done: false, value: 1 });
    expect(await events.next()).toEqual({ done: false, value: 2 });
  });

  it('ends a waiting next() with done when the signal aborts, and stops listening', async () => {
    const emitter = new EventEmitter();
    const controller = new AbortController();
    const events = listen(emitter, 'video:a', controller.signal);
    const waiting = events.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(emitter.listenerCount('video:a')).toBe(0);
    emitter.emit('video:a', 1);
    expect(await events.next()).toEqual({ done: true, value: undefined });
  });

  it('is done at once for a signal that has already aborted, and after return()', async () => {
    const emitter = new EventEmitter();
    const aborted = AbortSignal.abort();
    expect(await listen(emitter, 'video:a', aborted).next()).toEqual({ done: true, value: undefined });
    const events = listen(emitter, 'video:a');
    await events.return!();
    expect(emitter.listenerCount('video:a')).toBe(0);
    expect(await events.next()).toEqual({ done: true, value: undefined });
  });
});
