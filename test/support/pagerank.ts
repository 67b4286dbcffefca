/** PageRank with damping 0.85 over an edge list, the textbook iteration the example app implements. */
export function expectedRanks(edges: Array<[string, string]>, iterations: number): Map<string, number> {
  const links = new Map<string, Set<string>>();
  for (const [from, to] of edges) links.set(from, (links.get(from) ?? new Set()).add(to));
  let ranks = new Map([...links.keys()].map((page) => [page, 1]));
  for (let i = 0; i < iterations; i++) {
    const contributions = new Map<string, number>();
    for (const [page, rank] of ranks) {
      const out = links.get(page);
      if (!out) continue;
      for (const to of out) contributions.set(to, (contributions.get(to) ?? 0) + rank / out.size);
    }
    ranks = new Map([...contributions].map(([page, sum]) => [page, 0.15 + 0.85 * sum]));
  }
  return ranks;
}

/** The app's input format: one "<page> <neighbour>" per line. */
export function parseEdges(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.trim().split(/\s+/) as [string, string]);
}
