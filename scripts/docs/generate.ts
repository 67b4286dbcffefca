// Writes the generated docs from the tables they document: node scripts/docs/generate.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultConfig } from '../../src/config/schema.ts';
import { networkPoliciesMarkdown } from '../../src/components/network-policies/markdown.ts';
import { rbacMarkdown } from '../../src/components/rbac/markdown.ts';

const root = path.resolve(import.meta.dirname, '../..');
const config = defaultConfig(root);
for (const [file, text] of [['docs/network-policies.md', networkPoliciesMarkdown(config)], ['docs/rbac.md', rbacMarkdown(config)]] as const) {
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${file}`);
}
