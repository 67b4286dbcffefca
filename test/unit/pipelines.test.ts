import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectBadInput } from '../support/config-errors.ts';
import { loadPipeline, refuseExpired, renderStream, type StreamPipeline } from '../../src/pipelines/stream.ts';
import { KoalaError } from '../../src/util/errors.ts';
import { STREAM_PIPELINE } from '../support/datatask-seed.ts';

function file(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-pipeline-'));
  writeFileSync(path.join(dir, 'pipeline.yaml'), text);
  return path.join(dir, 'pipeline.yaml');
}

async function loadStreamPipeline(f: string): Promise<StreamPipeline> {
  const pipeline = await loadPipeline(f);
  if (pipeline.kind !== 'stream') throw new Error(`${f} is a ${pipeline.kind} pipeline`);
  return pipeline;
}

const container = '        spec: { containers: [{ name: c, image: i }] }\n';
const withSpec = (spec: string) =>
  `apiVersion: controller.ljchen.net/v1\nkind: Pipeline\nmetadata:\n  name: p\nspec:\n${spec}`;

const BAD: Array<[string, string, RegExp]> = [
  [
    'another kind',
    'kind: Deployment\nmetadata:\n  name: p\n',
    /kind: "Deployment" is not one of the accepted values \(accepted: Pipeline\)/,
  ],
  ['no name', 'kind: Pipeline\nspec:\n  streamJob:\n    microServices: []\n', /metadata\.name: is required/],
  [
    'a micro-service name that would make a Service name over 63 characters',
    withSpec('  streamJob:\n    microServices:\n      - name: ' + 'a'.repeat(31) + '\n' + container),
    /microServices\.0\.name: "a{31}" is not valid \(accepted: lowercase letters, digits and "-", at most 30/,
  ],
  ['a name with capitals', 'kind: Pipeline\nmetadata:\n  name: Ingest\n', /metadata\.name: "Ingest" is not valid/],
  ['no micro-services', withSpec('  streamJob:\n    microServices: []\n'), /microServices: needs at least 1 item/],
  [
    'a micro-service without containers',
    withSpec('  streamJob:\n    microServices:\n      - name: a\n        spec: {}\n'),
    /microServices\.0\.spec\.containers: needs at least one container with a name and an image/,
  ],
  [
    'a container without an image',
    withSpec(
      '  streamJob:\n    microServices:\n      - name: a\n' +
        '        spec:\n          containers:\n            - name: c\n',
    ),
    /needs at least one container with a name and an image/,
  ],
  [
    'two micro-services of one name',
    withSpec('  streamJob:\n    microServices:\n      - name: a\n' + container + '      - name: a\n' + container),
    /microServices\.1\.name: "a" is used twice/,
  ],
  [
    'replicas as text',
    withSpec('  streamJob:\n    microServices:\n      - name: a\n        replicas: two\n' + container),
    /replicas: expected a whole number, got "two"/,
  ],
  [
    "the pipeline-operator's adapters",
    withSpec('  batchJob:\n    input: {}\n'),
    /spec\.batchJob\.input: names the pipeline-operator's adapters, whose images koala does not have \(accepted: /,
  ],
  [
    'an expiry that is not a date',
    withSpec('  streamJob:\n    microServices:\n      - name: a\n' + container + '  strategy:\n    expire: soon\n'),
    /spec\.strategy\.expire: "soon" is not valid \(accepted: a date and time/,
  ],
];

describe('a stream pipeline file: bad input names the file, line and field (exit 2)', () => {
  it.each(BAD)('%s', async (_name, text, expected) => {
    const f = file(text);
    await expectBadInput(loadStreamPipeline(f), f, expected);
  });
});

describe("the pipeline-operator's stream pipeline, as written", () => {
  it('becomes a Deployment per micro-service, with the replicas it declares; a stopped one runs 0', async () => {
    const pipeline = await loadStreamPipeline(file(STREAM_PIPELINE));
    expect(pipeline.name).toBe('pipeline-test-2');
    expect(pipeline.services.map((s) => `${s.name}:${s.replicas}`)).toEqual(['micro-service-1:1', 'micro-service-2:1']);
    const objects = renderStream(pipeline, 'tasks', false);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/pipeline-test-2-micro-service-1',
      'Deployment/pipeline-test-2-micro-service-2',
    ]);
    expect(objects[0]!.spec).toMatchObject({
      replicas: 1,
      selector: { matchLabels: { 'koala.dev/pipeline': 'pipeline-test-2', 'koala.dev/component': 'micro-service-1' } },
      template: { spec: { containers: [{ name: 'nginx-1', image: 'nginx' }] } },
    });
    const stopped = renderStream(pipeline, 'tasks', true);
    expect(stopped[0]!.spec).toMatchObject({ replicas: 0 });
    expect(stopped[0]!.metadata.annotations).toEqual({ 'koala.dev/replicas': '1', 'koala.dev/stopped': 'true' });
    // The seed's expire date has passed: it is refused, naming the date.
    expect(() => refuseExpired(pipeline)).toThrow(KoalaError);
    expect(() => refuseExpired(pipeline)).toThrow(/expired on 2019-07-1\d/);
    expect(() => refuseExpired(pipeline, new Date('2019-07-01'))).not.toThrow();
  });

  it('a micro-service whose containers name ports gets a Service on them', async () => {
    const pipeline = await loadStreamPipeline(
      file(
        withSpec(
          '  streamJob:\n    microServices:\n      - name: api\n        replicas: 2\n        spec:\n' +
            '          containers:\n            - name: web\n              image: web:1\n' +
            '              ports: [{ name: http, containerPort: 8080 }]\n',
        ),
      ),
    );
    const [, service] = renderStream(pipeline, 'tasks', false);
    expect(service).toMatchObject({
      kind: 'Service',
      metadata: { name: 'p-api' },
      spec: {
        selector: { 'koala.dev/pipeline': 'p', 'koala.dev/component': 'api' },
        ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
      },
    });
  });
});
