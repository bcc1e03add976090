import os


def greeting(name):
    return f"{os.environ.get('GREETINGS', 'Hello')}, {name}"
