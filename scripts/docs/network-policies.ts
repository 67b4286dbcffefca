// Writes docs/network-policies.md from the allow matrix (node scripts/docs/network-policies.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultConfig } from '../../src/config/schema.ts';
import { networkPoliciesMarkdown } from '../../src/components/network-policies/markdown.ts';

const root = path.resolve(import.meta.dirname, '../..');
writeFileSync(path.join(root, 'docs/network-policies.md'), networkPoliciesMarkdown(defaultConfig(root)));
console.log('wrote docs/network-policies.md');
