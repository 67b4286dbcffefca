/**
 * The order of `koala up`, read top to bottom: every step koala's own parts contribute, and the
 * steps each one waits for. Steps run as soon as what they need is done, so independent ones
 * (the registry and the cluster, say) run in parallel; the plan lists them in this order.
 *
 * The steps come from src/cluster/steps.ts (the cluster) and from each component's folder
 * (src/components/<id>/); those files say how a step does its work, this one says when. A
 * component that is switched off leaves its steps out, and no step here needs one of them.
 * A component that is not listed here (one added by a test, say) brings its steps' `needs`
 * itself, and they run after the steps listed here.
 */

export const UP_STEP_IDS = [
  // The kind cluster, from assets/kind/cluster.yaml, and its nodes.
  'cluster',
  'nodes-ready',
  'cluster-spec',
  // kind's local-registry recipe: the registry container, on kind's network, in each node's
  // containerd config, announced in the kube-public/local-registry-hosting ConfigMap.
  'registry',
  'registry-network',
  'registry-hosts',
  'registry-hosting',
  // koala's chart: the namespaces and the credentials every component below reads.
  'platform',
  'spark-operator',
  'object-store',
  'object-store-buckets',
  'airflow-postgres',
  'airflow-dags',
  'airflow',
  // Caddy, serving the published tasks' Ingresses under their prefixes.
  'gateway',
  // Who may do what, and which pod may talk to which: over the namespaces above.
  'rbac',
  'network-policies',
] as const;

export type UpStepId = (typeof UP_STEP_IDS)[number];

/** What each step waits for. */
export const UP_NEEDS: Readonly<Record<UpStepId, readonly UpStepId[]>> = {
  cluster: [],
  'nodes-ready': ['cluster'],
  'cluster-spec': ['nodes-ready'],
  registry: [],
  // The registry joins the `kind` network, which kind creates with the first cluster.
  'registry-network': ['cluster', 'registry'],
  'registry-hosts': ['cluster', 'registry'],
  'registry-hosting': ['nodes-ready'],
  platform: ['nodes-ready'],
  // The operator's chart creates ServiceAccounts in the job namespaces, which `platform` makes.
  'spark-operator': ['platform'],
  'object-store': ['platform'],
  // An external store has no install: its object-store step is the bucket job, and this one is absent.
  'object-store-buckets': ['object-store'],
  'airflow-postgres': ['platform'],
  'airflow-dags': ['platform'],
  // Airflow's migrations wait for its database; its pods mount the DAGs ConfigMap.
  airflow: ['airflow-postgres', 'airflow-dags'],
  gateway: ['platform'],
  rbac: ['platform'],
  'network-policies': ['platform'],
};

export function isUpStepId(id: string): id is UpStepId {
  return (UP_STEP_IDS as readonly string[]).includes(id);
}
