#!/bin/bash
# /opt/entrypoint.sh of koala's test Spark image: what Spark on Kubernetes expects of an image's
# entrypoint. Spark starts the driver pod with `driver <spark-submit args>` and each executor
# pod with `executor`, passing everything else through SPARK_* variables; any other command is
# run as it is. Written for the test image; it behaves as apache/spark's entrypoint does.
set -eo pipefail

: "${SPARK_HOME:=/opt/spark}"
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  export JAVA_HOME
fi

# Pods may run under a uid the image does not know (OpenShift, runAsUser); the JVM and Python
# want a passwd entry, so one is lent through nss_wrapper without touching /etc/passwd.
lend_passwd_entry() {
  local uid gid wrapper
  uid=$(id -u); gid=$(id -g)
  getent passwd "$uid" >/dev/null && return 0
  wrapper=$(find /usr/lib -name libnss_wrapper.so 2>/dev/null | head -n 1)
  [ -n "$wrapper" ] || return 0
  NSS_WRAPPER_PASSWD=$(mktemp); NSS_WRAPPER_GROUP=$(mktemp)
  printf 'spark:x:%s:%s:anonymous uid:%s:/bin/false\n' "$uid" "$gid" "$SPARK_HOME" >"$NSS_WRAPPER_PASSWD"
  printf 'spark:x:%s:\n' "$gid" >"$NSS_WRAPPER_GROUP"
  export NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP LD_PRELOAD=$wrapper
}

# The JVM options Spark hands an executor: SPARK_JAVA_OPT_0, _1, ... in their numeric order.
executor_java_opts=()
for name in $(compgen -v SPARK_JAVA_OPT_ | sort -t_ -k4 -n); do
  executor_java_opts+=("${!name}")
done

classpath="${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}$SPARK_HOME/jars/*"
[ -n "${SPARK_EXTRA_CLASSPATH:-}" ] && classpath="$classpath:$SPARK_EXTRA_CLASSPATH"
[ -n "${HADOOP_CONF_DIR:-}" ] && classpath="$HADOOP_CONF_DIR:$classpath"
classpath="${SPARK_CONF_DIR:-$SPARK_HOME/conf}:$classpath:$PWD"
[ -n "${PYSPARK_PYTHON:-}" ] && export PYSPARK_PYTHON
[ -n "${PYSPARK_DRIVER_PYTHON:-}" ] && export PYSPARK_DRIVER_PYTHON

case "${1:-}" in
  driver)
    shift
    lend_passwd_entry
    exec /usr/bin/tini -s -- "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS" \
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS" \
      --deploy-mode client "$@"
    ;;
  executor)
    shift
    lend_passwd_entry
    exec /usr/bin/tini -s -- "$JAVA_HOME/bin/java" "${executor_java_opts[@]}" \
      "-Xms$SPARK_EXECUTOR_MEMORY" "-Xmx$SPARK_EXECUTOR_MEMORY" \
      -cp "$classpath${SPARK_DIST_CLASSPATH:+:$SPARK_DIST_CLASSPATH}" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "$SPARK_DRIVER_URL" --executor-id "$SPARK_EXECUTOR_ID" \
      --cores "$SPARK_EXECUTOR_CORES" --app-id "$SPARK_APPLICATION_ID" \
      --hostname "$SPARK_EXECUTOR_POD_IP" --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID" \
      --podName "$SPARK_EXECUTOR_POD_NAME"
    ;;
  *)
    exec "$@"
    ;;
esac
