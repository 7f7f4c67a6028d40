/**
 * What a warm checkout would cost on Lambda at each memory size, estimated from the handler's
 * CPU per invocation measured in-process (warm-handler.ts) and the time it waits on the
 * database and the services. Pure arithmetic: no I/O, no clock.
 */
import type { WarmHandlerResult } from './warm-handler.ts';

/** The sizes compared: the smallest, the stack's 512 MB, one full vCPU (1 769 MB) and above. */
export const MEMORY_SIZES_MB = [128, 256, 512, 1024, 1769, 2048] as const;

/**
 * "Lambda allocates CPU power in proportion to the amount of memory configured. [...] At
 * 1,769 MB, a function has the equivalent of one vCPU (one vCPU-second of credits per
 * second)." https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
 * Above it a function gets more than one vCPU, which a single-threaded handler cannot use: its
 * share is capped at 1.
 */
export const FULL_VCPU_MB = 1769;

/**
 * Duration price on arm64 (the functions' architecture), US East (N. Virginia), first tier
 * (the first 7.5 billion GB-seconds of a month): $0.0000133334 per GB-second; requests
 * $0.20 per million on both architectures. https://aws.amazon.com/lambda/pricing/ (tiers:
 * https://aws.amazon.com/blogs/compute/introducing-tiered-pricing-for-aws-lambda/). The free
 * tier (1 M requests, 400 000 GB-s a month) is left out: it is a monthly allowance, not a price
 * per checkout.
 */
export const ARM64_USD_PER_GB_SECOND = 0.0000133334;
export const USD_PER_MILLION_REQUESTS = 0.2;

/**
 * What a checkout on Lambda waits for, per invocation, assumed for the recommendation: four
 * Data API statements (each a durable commit on Aurora, over HTTPS) and three calls to real
 * services, one of them a card payment. Locally WireMock and the Data API double answer at
 * once (≈ 10–20 ms in all), which would make any CPU look dear. 250 ms is an assumption, not a
 * measurement: read the real figure off the deployed function's REPORT lines (Duration − the
 * CPU measured here) and pass it to `lambdaCosts`.
 */
export const ASSUMED_LAMBDA_WAIT_MS = 250;

/** How far above the full-vCPU duration a smaller size may be and still be recommended. */
export const DURATION_TOLERANCE = 0.1;
/** Memory the recommended size must have per MiB of the measured peak RSS. */
export const MEMORY_HEADROOM = 2;

export interface MemoryOption {
  memoryMb: number;
  estimatedDurationMs: number;
  costPerMillionUsd: number;
}

/** The CPU a function of `memoryMb` gets, as a share of one vCPU (1 at 1 769 MB and above). */
export const cpuShare = (memoryMb: number) => Math.min(1, memoryMb / FULL_VCPU_MB);

/**
 * Each memory size with its estimated duration and cost per million checkouts, and the
 * recommended size.
 *
 * - Duration = `downstreamWaitMs` (time spent waiting on the database and the three services,
 *   which memory does not change) + the measured CPU per invocation stretched by the CPU share:
 *   a function with a third of a vCPU takes three times as long to do the same work.
 * - Cost per million = 1e6 × GB × seconds × the arm64 GB-second price + the request charge.
 *   Billing rounds each invocation up to the next millisecond; this average does not.
 *
 * The rule: **the smallest size with at least 2 × the peak RSS (headroom for garbage, larger
 * answers and the runtime) whose estimated duration is within 10 % of the duration at one full
 * vCPU** (1 769 MB: the most CPU a single thread can use). Below it, the function spends
 * noticeably longer on CPU than it has to, which the customer waits for; above it, memory is
 * paid for and not used. When no size qualifies, the largest compared is recommended and the
 * reason says which condition failed.
 */
export function lambdaCosts(
  result: Pick<WarmHandlerResult, 'cpuMsPerInvocation' | 'peakRssMiB'>,
  downstreamWaitMs: number,
): { options: MemoryOption[]; recommendedMb: number; reason: string } {
  const options = MEMORY_SIZES_MB.map((memoryMb): MemoryOption => {
    const estimatedDurationMs = downstreamWaitMs + result.cpuMsPerInvocation / cpuShare(memoryMb);
    const gbSeconds = (memoryMb / 1024) * (estimatedDurationMs / 1000);
    return {
      memoryMb,
      estimatedDurationMs,
      costPerMillionUsd: 1e6 * gbSeconds * ARM64_USD_PER_GB_SECOND + USD_PER_MILLION_REQUESTS,
    };
  });
  const fullVcpuMs = downstreamWaitMs + result.cpuMsPerInvocation;
  const maxDurationMs = fullVcpuMs * (1 + DURATION_TOLERANCE);
  const minMemoryMb = MEMORY_HEADROOM * result.peakRssMiB;
  const fitsMemory = (o: MemoryOption) => o.memoryMb >= minMemoryMb;
  const fast = (o: MemoryOption) => o.estimatedDurationMs <= maxDurationMs;

  const limits =
    `needs ≥ ${minMemoryMb.toFixed(0)} MB (2 × peak RSS ${result.peakRssMiB.toFixed(0)} MiB) ` +
    `and ≤ ${maxDurationMs.toFixed(1)} ms (1 769 MB's ${fullVcpuMs.toFixed(1)} ms + 10 %)`;
  const index = options.findIndex((o) => fitsMemory(o) && fast(o));
  const chosen = options[index];
  if (!chosen) {
    const largest = options.at(-1) as MemoryOption;
    return {
      options,
      recommendedMb: largest.memoryMb,
      reason: `no size compared ${limits}; the largest, ${largest.memoryMb} MB, is the closest`,
    };
  }
  const smaller = options[index - 1];
  const whyNotSmaller = !smaller
    ? 'the smallest size compared'
    : !fitsMemory(smaller)
      ? `${smaller.memoryMb} MB is under 2 × peak RSS`
      : `${smaller.memoryMb} MB would take ${smaller.estimatedDurationMs.toFixed(1)} ms ` +
        `(+${((smaller.estimatedDurationMs / fullVcpuMs - 1) * 100).toFixed(0)} %)`;
  return {
    options,
    recommendedMb: chosen.memoryMb,
    reason:
      `${chosen.memoryMb} MB: ${chosen.estimatedDurationMs.toFixed(1)} ms, ` +
      `$${chosen.costPerMillionUsd.toFixed(2)} per million; ${limits}; ${whyNotSmaller}`,
  };
}
