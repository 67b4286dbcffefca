"""Airflow DAG for the Spark app "{{name}}" (spark-applications/{{name}}/), written by `koala new spark-app`.

It submits the app exactly as `koala run {{name}}` renders it: {{yamlFile}}, beside this file,
is that SparkApplication at the app's current image tag. `koala dags sync` rebuilds the image
when the app changed, writes the file again and publishes dags/ to Airflow, so the two never
drift apart. The task uses the in-cluster Kubernetes connection (kubernetes_default), waits for
the run to end and streams the driver's log into the task log.

Edit the schedule and the DAG's arguments freely; keep application_file as it is.
"""
from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator
from airflow.sdk import DAG

with DAG(
    dag_id="{{dagId}}",
    description="Run the Spark app {{name}} as koala renders it",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["koala", "spark"],
):
    SparkKubernetesOperator(
        task_id="run_{{dagId}}",
        namespace="{{namespace}}",
        application_file="{{yamlFile}}",
        kubernetes_conn_id="kubernetes_default",
        get_logs=True,
        delete_on_termination=False,
    )
