// Writes the generated docs from the tables they document: node scripts/docs/generate.ts
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultConfig } from '../../src/config/schema.ts';
import { networkPoliciesMarkdown } from '../../src/components/network-policies/markdown.ts';
import { rbacMarkdown } from '../../src/components/rbac/markdown.ts';
import { withAllowMatrix } from '../../src/components/network-policies/readme.ts';

const root = path.resolve(import.meta.dirname, '../..');
const config = defaultConfig(root);
const policies = networkPoliciesMarkdown(config);
for (const [file, text] of [
  ['docs/network-policies.md', policies],
  ['docs/rbac.md', rbacMarkdown(config)],
] as const) {
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${file}`);
}
const readme = path.join(root, 'README.md');
writeFileSync(readme, withAllowMatrix(readFileSync(readme, 'utf8'), policies));
console.log('wrote the allow matrix into README.md');
