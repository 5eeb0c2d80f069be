#!/usr/bin/env bash
# demo-config.sh — print an rbd config for the demo: everything under demo/ and the build tree,
# the calling user in team "demo" (and its administrator). Paths are relative to the config.
set -euo pipefail
cat <<INI
; rbd config for the demo (scripts/demo.sh writes it to demo/rbd.ini; conf/rbd.ini is the
; annotated example for a real install). Relative paths are relative to this file.
[server]
socket = rbd.sock
socket_mode = 0600
state_dir = state
plugin_dir = ../build/plugins
workers = 2
admin_group = $(id -g)

[limits]
wall_time = 10m
address_space = 8G

[dataset.demo]
file = demo.rbds

[team.demo]
members = $(id -u)
max_queued = 100
INI
