#!/bin/sh
# One-shot setup of the compose stack, run as root in the controller image before the
# controller and FreeSWITCH start: the agents' directory owned by the controller's user (so
# `callcenter fs render` can write it), the schema migrated, and what the shipped flows need
# (their queues) plus a route to them. Idempotent: each `docker compose up` runs it again.
set -eu

chown callcenter:callcenter /etc/freeswitch/directory/callcenter
callcenter db upgrade

for queue in sales support vip; do   # the queues dialplans/main.yaml and support.yaml name
  callcenter queue show "$queue" >/dev/null 2>&1 || callcenter queue add "$queue"
done
callcenter route list --json | grep -q '"did": "5000"' || callcenter route add 5000 ivr:main
echo "setup: schema at head; queues sales, support, vip; DID 5000 -> ivr:main"
