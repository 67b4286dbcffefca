/**
 * The manifest.json examples of the datatask documentation (../shared/seeds/003_*), as written
 * there, for the tests of `koala tasks`.
 */
export const SEED = {
  job: {
    labels: 'app:gstogs',
    type: 'job',
    name: 'gstogs',
    'image-source': '',
    'image-destination': 'gcr.io/affini-tech-datalab/gs_to_gs:0.1',
    'image-pull-policy': 'Always',
    env: [
      { name: 'bucket_source', value: 'dev_etl_pipeline' },
      { name: 'logger_name', value: 'gs_to_gs' },
    ],
    'svc-account-secret': 'svc-account-affini-tech-a',
    cmd: ['python3', 'gs_to_gs.py'],
    'cpu-limit': '0.20',
    'memory-limit': '200Mi',
    'cpu-request': '0.15',
    'memory-request': '150Mi',
    schedule: '',
  },
  deployment: {
    labels: 'app:subscriber-etl',
    type: 'deployment',
    name: 'subscriber-launch-pipeline',
    'image-source': '',
    'image-destination': 'gcr.io/datataskio/launch_pipeline:0.2',
    env: [
      { name: 'bucket_source', value: 'datatasketl' },
      { name: 'logger_name', value: 'etl_launch_pipeline' },
    ],
    'svc-account-secret': 'svc-account-affini-tech-a',
    cmd: ['python3', 'launch_pipeline.py'],
  },
  service: {
    labels: 'app:flask',
    type: 'service',
    published: { access: 'dev', prefix: '/app/' },
    name: 'app-flask',
    'image-source': 'quay.io/gilles/flask-team',
    'image-destination': '',
    'image-pull-policy': 'Always',
    env: [],
    'svc-account-secret': 'svc-account-affini-tech-a',
    cmd: [],
    replicas: 1,
    'name-port': 'app-port',
    'container-port': 5000,
  },
} as const;

/** The pipeline-operator's stream pipeline (../shared/seeds/004_*), as written there. */
export const STREAM_PIPELINE = `apiVersion: controller.ljchen.net/v1
kind: Pipeline
metadata:
  name: pipeline-test-2
  finalizers:
    - finalizer.ljchen.net
spec:
  streamJob:
    microServices:
      - name: micro-service-1
        replicas: 1
        spec:
          containers:
            - name: nginx-1
              image: nginx
      - name: micro-service-2
        replicas: 1
        spec:
          containers:
            - name: nginx-2
              image: nginx
  strategy:
    expire: "2019-07-15 15:22:00"
    cronExpression: "0/1 * * * *"
`;
