"""Turn the outputs of run_autograder into Gradescope's results.json (one test per folder)."""

import difflib
import json
import os
import sys

RESULTS = "/autograder/results/results.json"
TESTS = sorted(os.listdir("test_data"))


def settings(name):
    with open(os.path.join("test_data", name, "settings.json")) as fh:
        return json.load(fh)


def main():
    if sys.argv[1:2] == ["--compile-error"]:
        with open(sys.argv[2]) as fh:
            log = fh.read()
        tests = [{"name": "Compiles", "score": 0, "max_score": 0, "status": "failed",
                  "output": log}]
        tests += [{"name": settings(t)["name"], "score": 0, "max_score": settings(t)["points"],
                   "visibility": settings(t).get("visibility", "visible"),
                   "output": "Not run: the program does not compile."} for t in TESTS]
    else:
        tests = [{"name": "Compiles", "score": 0, "max_score": 0, "status": "passed"}]
        for t in TESTS:
            info = settings(t)
            with open(os.path.join("test_data", t, "expected_output")) as fh:
                expected = fh.read()
            with open(f"output_{t}", errors="replace") as fh:
                actual = fh.read()
            with open(f"status_{t}") as fh:
                status = int(fh.read())
            passed = status == 0 and actual == expected
            if status == 124:
                output = "Timed out after 2 seconds."
            elif status != 0:
                output = f"The program exited with status {status}."
            elif passed:
                output = ""
            else:
                diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                            "expected", "your output", lineterm="")
                output = "\n".join(diff)
            tests.append({"name": info["name"], "score": info["points"] if passed else 0,
                          "max_score": info["points"],
                          "visibility": info.get("visibility", "visible"), "output": output})
    with open(RESULTS, "w") as fh:
        json.dump({"tests": tests, "output_format": "text"}, fh)


main()
