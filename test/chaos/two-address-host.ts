import dns, { type LookupAddress } from 'node:dns';

/**
 * A host name with two loopback addresses, as `localhost` has on most machines (127.0.0.1 and
 * ::1) and a load balancer's name has one per zone. Here /etc/hosts maps `localhost` to
 * 127.0.0.1 only, so the chaos processes resolve this name themselves (`.invalid` never
 * resolves anywhere else). When both addresses refuse, Node's happy-eyeballs connect
 * (`autoSelectFamily`) fails with an `AggregateError` whose code is `ECONNREFUSED` and which has
 * no `syscall` (design §8): the `unreachable` fault needs a name like this to produce it.
 */
export const TWO_ADDRESS_HOST = 'services.chaos.invalid';

/** Both addresses of `TWO_ADDRESS_HOST`; the simulator listens on both. */
export const TWO_ADDRESSES: readonly LookupAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

type Callback = (error: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;

/**
 * Resolves `TWO_ADDRESS_HOST` in this process by patching `dns.lookup` and
 * `dns.promises.lookup`, which `net.connect` (and so every `http.Agent`) calls at connect time;
 * other names go to the real resolver. Nothing in `lib/` changes. Returns the undo.
 */
export function installTwoAddressLookup(): () => void {
  const lookup = dns.lookup;
  const promisesLookup = dns.promises.lookup;
  const patched = (hostname: string, ...rest: unknown[]) => {
    const callback = rest.at(-1) as Callback;
    const options = typeof rest[0] === 'function' ? {} : rest[0];
    if (hostname !== TWO_ADDRESS_HOST) {
      return (lookup as (...args: unknown[]) => void).call(dns, hostname, ...rest);
    }
    const found = addressesFor(options);
    process.nextTick(() => {
      if (wantsAll(options)) callback(null, found);
      else callback(null, found[0]?.address, found[0]?.family);
    });
  };
  const patchedPromises = async (hostname: string, options?: unknown) => {
    if (hostname !== TWO_ADDRESS_HOST) {
      return (promisesLookup as (...args: unknown[]) => Promise<unknown>).call(
        dns.promises,
        hostname,
        options,
      );
    }
    const found = addressesFor(options);
    return wantsAll(options) ? found : found[0];
  };
  dns.lookup = patched as typeof dns.lookup;
  dns.promises.lookup = patchedPromises as typeof dns.promises.lookup;
  return () => {
    dns.lookup = lookup;
    dns.promises.lookup = promisesLookup;
  };
}

function wantsAll(options: unknown): boolean {
  return typeof options === 'object' && options !== null && 'all' in options && !!options.all;
}

/** The addresses of the family asked for (`4`, `'IPv6'`, `{ family }`; 0 or none: both). */
function addressesFor(options: unknown): LookupAddress[] {
  const asked =
    typeof options === 'object' && options !== null && 'family' in options
      ? options.family
      : options;
  const family = asked === 4 || asked === 'IPv4' ? 4 : asked === 6 || asked === 'IPv6' ? 6 : 0;
  return TWO_ADDRESSES.filter((a) => family === 0 || a.family === family);
}
