# Sourced by every task's wrapper before the task's own script, as in DolphinScheduler.
# Put the environment your tasks need here (JAVA_HOME, HADOOP_HOME, SPARK_HOME, ...).
export PYTHON_LAUNCHER=${PYTHON_LAUNCHER:-python3}
