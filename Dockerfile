# One replica of tdi-geo in a container, after Streamlit's "Deploy Streamlit using Docker"
# tutorial (docs.streamlit.io/deploy/tutorials/docker): a slim Python image, the pinned
# requirements, port 8501, a HEALTHCHECK on /_stcore/health, `streamlit run` as entry point.
#
# NOT BUILT: the machines this project is developed and tested on have no container daemon,
# so this file was written and reviewed, never built or run. What *is* tested is the same
# process behind nginx: `make stack` and tests/test_nginx_stack.py (see deploy/).
#
#   docker build -t tdi-geo .
#   docker run -p 8501:8501 -v tdi-imports:/data/imports tdi-geo
#
# Behind nginx (deploy/nginx.conf.template), run one container per core, all with the
# same /data/imports volume (the shared import workspace) and -e TDI_GEO_BEHIND_PROXY=1
# (nginx compresses), and point the template's `server` lines at them.
# The editors' secret is given at run time (-e TDI_GEO_EDITOR_SECRET=...), never baked in.
FROM python:3.11-slim

# curl for the HEALTHCHECK, as in Streamlit's tutorial; every Python package has a wheel,
# so no compiler is needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# What `make install` installs: the pinned runtime requirements (a layer of its own, so
# that a code change does not reinstall them).
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# An unprivileged user; the import workspace is a volume it can write.
RUN useradd --create-home --uid 1000 tdi \
    && mkdir -p /data/imports \
    && chown tdi /data/imports
USER tdi
ENV TDI_GEO_WORKSPACE=/data/imports
VOLUME /data/imports

EXPOSE 8501

HEALTHCHECK CMD curl --fail http://localhost:8501/_stcore/health

ENTRYPOINT ["streamlit", "run", "serve.py", "--server.port=8501", "--server.address=0.0.0.0"]
