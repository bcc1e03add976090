def log(message):
    print("[log]", message)


def process(values):
    log("start")
    result = sum(values)
    log("done")
    return result
