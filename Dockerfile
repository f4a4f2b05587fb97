# Airflow 3.3 (the official image) with airflow-provider-flyte installed from this checkout, so
# the image works before any release. docker-compose.yaml builds it and runs every service of
# the stack from it, flyte-local-admin included; docs/deployment.md explains the stack.
#
#   docker build -t airflow-provider-flyte:dev .
#   docker build --build-arg AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.12 -t airflow-provider-flyte:dev .
#
# The Flyte workflows the example DAGs launch need nothing beyond flytekit (a dependency of the
# package): they are pure Python and read their data from the mounted example_dags/data.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

# The checkout less what .dockerignore keeps out (tests, examples, venv...): pyproject.toml decides
# what goes into the installed package.
COPY --chown=airflow:0 . /opt/airflow/src/airflow-provider-flyte/

# As the image's airflow user, the way the image's docs extend it: naming apache-airflow at the
# image's own version keeps pip from moving Airflow while it resolves our dependencies.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/airflow/src/airflow-provider-flyte

# Mount points of the compose stack's named volumes, created here so that Docker gives the new
# volumes this owner and mode (the airflow user, group 0 writable, as the image's own folders).
RUN mkdir -p -m 775 /opt/airflow/flyte-admin-state /opt/airflow/shared
