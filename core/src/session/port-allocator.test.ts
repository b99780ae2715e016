import { describe, expect, it } from 'vitest';
import { PortAllocator } from './port-allocator.js';

describe('PortAllocator', () => {
  it('hands out every port of the range once, then nothing', () => {
    const a = new PortAllocator(5000, 5002);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([5000, 5001, 5002]);
    expect(a.allocate()).toBeUndefined();
    expect(a.inUse).toBe(3);
  });

  it('reuses a released port only after the other free ports', () => {
    const a = new PortAllocator(5000, 5002);
    const first = a.allocate() as number;
    a.release(first);
    expect(a.allocate()).toBe(5001);
    expect(a.allocate()).toBe(5002);
    expect(a.allocate()).toBe(5000);
  });

  it('ignores double releases and ports it never gave out', () => {
    const a = new PortAllocator(5000, 5001);
    const p = a.allocate() as number;
    a.release(p);
    a.release(p);
    a.release(6000);
    expect(a.inUse).toBe(0);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([5001, 5000, undefined]);
  });

  it('rejects impossible ranges', () => {
    expect(() => new PortAllocator(10, 5)).toThrow(/invalid ICE port range/);
    expect(() => new PortAllocator(0, 5)).toThrow();
    expect(() => new PortAllocator(65000, 70000)).toThrow();
  });
});
