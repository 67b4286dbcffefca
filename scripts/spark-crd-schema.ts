// Writes assets/spark-operator/sparkapplication.schema.json, the schema `koala run -f` checks
// manifests with, from the SparkApplication CRD of the pinned spark-operator chart:
//   node scripts/spark-crd-schema.ts <spark-operator-<version>.tgz | sparkoperator.k8s.io_sparkapplications.yaml>
// A unit test compares the asset with the CRD of the version pinned in assets/charts/pins.yaml.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CRD_FILE, schemaAssetFromCrd } from '../src/jobs/schema.ts';

const input = process.argv[2];
if (!input) {
  console.error('usage: node scripts/spark-crd-schema.ts <chart .tgz | CRD .yaml> [chart version]');
  process.exit(2);
}
const text = input.endsWith('.tgz')
  ? execFileSync('tar', ['-xzOf', input, `spark-operator/crds/${CRD_FILE}`], { encoding: 'utf8', maxBuffer: 64 << 20 })
  : readFileSync(input, 'utf8');
type Pins = { charts: Record<string, { version: string }> };
const pins = parse(readFileSync(path.join(import.meta.dirname, '../assets/charts/pins.yaml'), 'utf8')) as Pins;
const version = process.argv[3] ?? pins.charts['spark-operator']!.version;
const asset = schemaAssetFromCrd(parse(text), version);
const out = path.join(import.meta.dirname, '../assets/spark-operator/sparkapplication.schema.json');
writeFileSync(out, `${JSON.stringify(asset)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)} (${asset.apiVersion}, chart ${version})`);
