#!/usr/bin/env bash
# Gradescope's Python setup, unchanged: runs once per version of this autograder.
apt-get install -y python3 python3-pip python3-dev

pip3 install -r /autograder/source/requirements.txt
