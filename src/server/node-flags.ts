/**
 * V8 heap settings the server runs with: the container image's ENTRYPOINT passes them (a test
 * keeps the Dockerfile in step), and the primary passes them to its workers. Left to itself V8
 * sizes the heap for throughput: under a churn of distinct tokens it grows the young generation
 * to 2 × 16 MiB and lets the old generation reach about three times what is live, so a sidecar
 * whose live heap is ~40 MiB sat at ~230 MiB resident (bench/README.md, memory-churn). Smaller
 * semi-spaces and a slower-growing old generation keep it near 110 MiB for a few percent of CPU.
 */
export const SERVER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=40',
];
