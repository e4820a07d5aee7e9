#!/bin/sh
set -e
# Absolute paths are under CUTOVER_DESTINATION_ROOT: empty on a real host, the host's own
# folder for cutover's local hosts (the agent installs /srv/app there too).
ROOT="${CUTOVER_DESTINATION_ROOT:-}"
log() { mkdir -p "$ROOT/var/log"; echo "$(date -u +%H:%M:%S) $DEPLOYMENT_ID $LIFECYCLE_EVENT $*" >> "$ROOT/var/log/app-deploy.log"; echo "$*"; }
mkdir -p "$ROOT/var/run/app"
log "ready to install"
