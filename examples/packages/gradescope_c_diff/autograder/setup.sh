#!/usr/bin/env bash
# The compiler this autograder needs. On the grader it is already on the sandbox system, so
# apt-get only checks that it is there.
apt-get update
apt-get install -y gcc
