#!/bin/sh
# make demo: starts the fake Admin API on a free loopback port, runs examples/tour.lua against it,
# and stops the fake again, whatever happens.
cd "$(dirname "$0")/.." || exit 1
fifo=$(mktemp -u)
mkfifo "$fifo" || exit 1
lua5.4 bin/openai-admin-fake --port 0 --seed 7 --projects 3 --users 5 --audit-events 40 --quiet >"$fifo" &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; rm -f "$fifo"' EXIT INT TERM
exec 3<"$fifo"
read -r base_url <&3 || { echo "the fake server did not start" >&2; exit 1; }
echo "fake Admin API at $base_url (pid $fake_pid)"
OPENAI_BASE_URL="$base_url" OPENAI_ADMIN_KEY="sk-admin-fake-key" lua5.4 examples/tour.lua
