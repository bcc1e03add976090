import os


def greeting(name):
    return f"{os.environ.get('GREETING', 'Hello')}, {name}"
