export interface RecordedCall {
  name: string;
  args: unknown[];
}

/**
 * Records every call made on the fakes it creates, in order. A fake has only the methods a test gave it:
 * calling any other throws and is remembered in `unexpected`, so a call the code swallows with
 * `.catch()` still fails the test (assert `unexpected` is empty after each test).
 */
export class CallLog {
  readonly calls: RecordedCall[] = [];
  readonly unexpected: string[] = [];

  names(): string[] {
    return this.calls.map((call) => call.name);
  }

  callsTo(name: string): RecordedCall[] {
    return this.calls.filter((call) => call.name === name);
  }

  clear(): void {
    this.calls.length = 0;
  }

  /** A strict fake named `name` (calls are logged as `name.method`). */
  fake<T extends object>(name: string, members: Partial<T>): T {
    const { calls, unexpected } = this;
    return new Proxy(members as T, {
      get(target, property, receiver) {
        // Symbols and `then` are probed by await, inspection and matchers: never a call by the code under test.
        if (typeof property === 'symbol' || property === 'then')
          return Reflect.get(target, property, receiver);
        const qualified = `${name}.${property}`;
        if (!Object.hasOwn(target, property)) {
          return () => {
            unexpected.push(qualified);
            throw new Error(`unexpected call: ${qualified}()`);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push({ name: qualified, args });
          return (value as (...callArgs: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}
