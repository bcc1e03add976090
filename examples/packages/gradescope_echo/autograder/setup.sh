#!/usr/bin/env bash
# Runs in the sandbox before every grading, without network or root: no apt-get here.
set -euo pipefail
python3 -c "import json; json.dump([['hi', 3], ['a', 1], ['x', 0]], open('cases.json', 'w'))"
