"""Nothing in here is a test of this repository: the packages' tests run inside the harness."""

collect_ignore_glob = ["*"]
