/**
 * ROC area under the curve as the Mann–Whitney statistic: the chance that a random positive outranks a
 * random negative, ties counting one half. Null when either class is empty.
 */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const scored = [
    ...positives.map((value) => ({ value, positive: true })),
    ...negatives.map((value) => ({ value, positive: false })),
  ].sort((a, b) => a.value - b.value);
  // Tied values share the mean of the ranks they span (midranks), 1-based.
  let positiveRankSum = 0;
  for (let start = 0; start < scored.length;) {
    let end = start;
    while (end + 1 < scored.length && scored[end + 1]!.value === scored[start]!.value) end++;
    const midrank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index++) if (scored[index]!.positive) positiveRankSum += midrank;
    start = end + 1;
  }
  const n1 = positives.length;
  const u = positiveRankSum - (n1 * (n1 + 1)) / 2;
  return u / (n1 * negatives.length);
}
