# Sourced by every task's wrapper before the task's own script, as in DolphinScheduler.
# Put the environment your tasks need here (JAVA_HOME, HADOOP_HOME, SPARK_HOME, ...).
export PYTHON_LAUNCHER=${PYTHON_LAUNCHER:-python3}

# The metadata database, as in DolphinScheduler: script/create-dolphinscheduler.sh and
# script/upgrade-dolphinscheduler.sh source this file, and these variables override
# conf/datasource.conf (for every dsched process that has them in its environment).
# Unset: the embedded SQLite database.
# export DATABASE=${DATABASE:-postgresql}
# export SPRING_DATASOURCE_URL=${SPRING_DATASOURCE_URL:-jdbc:postgresql://127.0.0.1:5432/dolphinscheduler}
# export SPRING_DATASOURCE_USERNAME=${SPRING_DATASOURCE_USERNAME:-root}
# export SPRING_DATASOURCE_PASSWORD=${SPRING_DATASOURCE_PASSWORD:-root}

# The registry of the cluster services (dsched master|worker|api|alert), as in DolphinScheduler;
# these override the registry.* keys of conf/datasource.conf.
# export REGISTRY_TYPE=${REGISTRY_TYPE:-zookeeper}
# export REGISTRY_ZOOKEEPER_CONNECT_STRING=${REGISTRY_ZOOKEEPER_CONNECT_STRING:-localhost:2181}
