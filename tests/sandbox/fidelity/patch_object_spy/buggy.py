def log(message):
    print("[log]", message)


def process(values):
    result = sum(values)
    log("done")
    return result
