/** The allow-matrix table of docs/network-policies.md, placed between markers in the README. */
const START = /<!-- allow-matrix:start[^>]*-->/;
const END = '<!-- allow-matrix:end -->';

export function allowMatrixTable(policiesMarkdown: string): string {
  const section = policiesMarkdown.split('## Allowed connections')[1] ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .join('\n');
}

export function withAllowMatrix(readme: string, policiesMarkdown: string): string {
  const start = START.exec(readme);
  const end = readme.indexOf(END);
  if (!start || end < start.index) throw new Error('README.md has no allow-matrix markers');
  const head = readme.slice(0, start.index + start[0].length);
  return `${head}\n${allowMatrixTable(policiesMarkdown)}\n${readme.slice(end)}`;
}
