import json
from pathlib import Path


def load_cases():
    return json.loads((Path(__file__).parent / "data" / "words.json").read_text())
