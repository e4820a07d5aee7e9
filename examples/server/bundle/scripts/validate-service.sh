#!/bin/sh
# ValidateService: is the version this revision installed the one running?
set -e
# Absolute paths are under CUTOVER_DESTINATION_ROOT: empty on a real host, the host's own
# folder for cutover's local hosts (the agent installs /srv/app there too).
ROOT="${CUTOVER_DESTINATION_ROOT:-}"
log() { mkdir -p "$ROOT/var/log"; echo "$(date -u +%H:%M:%S) $DEPLOYMENT_ID $LIFECYCLE_EVENT $*" >> "$ROOT/var/log/app-deploy.log"; echo "$*"; }
BUNDLE="$(cd "$(dirname "$0")/.." && pwd)"
[ "$(cat "$ROOT/srv/app/version")" = "$(cat "$BUNDLE/app/version")" ] || { log "installed version is not this revision's" >&2; exit 1; }
[ "$(cat "$ROOT/var/run/app/started" 2>/dev/null)" = "$(cat "$ROOT/srv/app/version")" ] || { log "the app is not running this version" >&2; exit 1; }
# A revision may list hosts it is broken on (cutover demo server does, for revision 3).
if [ -f "$BUNDLE/broken-hosts" ] && grep -qx "${CUTOVER_LOCAL_HOST:-}" "$BUNDLE/broken-hosts"; then
  log "health check failed on $CUTOVER_LOCAL_HOST" >&2
  exit 1
fi
log "version $(cat "$ROOT/srv/app/version") is healthy"
