#!/usr/bin/env bash
# Gradescope's C setup: the compiler is already on the sandbox system, so this is a no-op here.
apt-get update
apt-get install -y build-essential
