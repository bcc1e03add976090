#!/usr/bin/env bash
# Runs once per version of this autograder (the grader caches what it leaves in /autograder).
set -euo pipefail
python3 -c "import json; json.dump([['hi', 3], ['a', 1], ['x', 0]], open('cases.json', 'w'))"
