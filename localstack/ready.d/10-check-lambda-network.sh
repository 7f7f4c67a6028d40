#!/bin/bash
# LocalStack init hook (READY stage): checks what the deployed Lambdas rely on and says plainly
# what is wrong in `docker compose logs localstack`:
#   1. the Docker socket is mounted (LocalStack runs each Lambda in a container of its own),
#   2. LAMBDA_DOCKER_NETWORK names a network that exists (the Lambda containers join it),
#   3. postgres and the three WireMocks answer by name on that network, as the Lambdas will
#      reach them (DATABASE_URL=postgres://postgres:postgres@postgres:5432/checkout_db).
# A non-zero exit marks this hook ERROR in /_localstack/init/ready, which `npm run deploy:local`
# reads before deploying.
set -uo pipefail

say() { echo "[checkout init] $*"; }
failed=0
network="${LAMBDA_DOCKER_NETWORK:-}"

if [ ! -S /var/run/docker.sock ]; then
  say "ERROR: /var/run/docker.sock is not mounted: LocalStack cannot start Lambda containers"
  failed=1
elif [ -z "$network" ]; then
  say "ERROR: LAMBDA_DOCKER_NETWORK is not set: Lambdas would not reach postgres or WireMock"
  failed=1
elif ! curl -fsS -o /dev/null --unix-socket /var/run/docker.sock \
  "http://localhost/networks/${network}"; then
  say "ERROR: Docker has no network '${network}' (LAMBDA_DOCKER_NETWORK);" \
    "the compose file names it with 'name: checkout'"
  failed=1
fi

if timeout 3 bash -c 'exec 3<>/dev/tcp/postgres/5432' 2>/dev/null; then
  say "postgres:5432 answers"
else
  say "ERROR: postgres:5432 does not answer on this network"
  failed=1
fi

for service in payment inventory order; do
  if curl -fsS -o /dev/null --max-time 3 "http://wiremock-${service}:8080/__admin/health"; then
    say "wiremock-${service}:8080 answers"
  else
    say "ERROR: wiremock-${service}:8080 does not answer on this network"
    failed=1
  fi
done

if [ "$failed" -eq 0 ]; then
  say "ready: Lambda containers on '${network}' reach postgres and wiremock-*;" \
    "run 'npm run deploy:local' on the host"
fi
exit "$failed"
